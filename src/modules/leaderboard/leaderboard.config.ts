import { configSlice } from '../../config/config-slice';

/** The knobs the leaderboard module reads (provided in leaderboard.module.ts). */
export class LeaderboardConfig extends configSlice('NAMESPACE', 'LEADERBOARD_TOP_CACHE_MS', 'hasRole') {}
