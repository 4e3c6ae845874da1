export * from './board-config';
export * from './member-encoding';
export * from './update-policy';
export * from './ranking';
