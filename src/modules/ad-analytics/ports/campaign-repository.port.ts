export interface AdSpec {
  id: string;
  creativeUrl: string;
  weight: number;
}

export interface Campaign {
  id: string;
  name: string;
  advertiserId: string;
  active: boolean;
  ads: AdSpec[];
  createdAt: string;
  updatedAt: string;
}

export interface ServableRow {
  adId: string;
  campaignId: string;
  creativeUrl: string;
  weight: number;
}

export type CreateOutcome = { ok: true; campaign: Campaign } | { ok: false; conflict: 'campaign' | 'ad'; id: string };

/** Campaigns and their ads in this namespace. */
export abstract class CampaignRepository {
  /** Nothing is stored when the campaign id or one of its ad ids is taken. */
  abstract create(c: { id: string; name: string; advertiserId: string; active: boolean; ads: AdSpec[] }): Promise<CreateOutcome>;
  abstract get(id: string): Promise<Campaign | null>;
  /** Returns the updated campaign, or null when it does not exist. */
  abstract setActive(id: string, active: boolean): Promise<Campaign | null>;
  /** Newest first, with the number of ads (the console's list). */
  abstract list(limit: number, offset: number): Promise<{ id: string; name: string; advertiserId: string; active: boolean; ads: number }[]>;
  /** Active ads of active campaigns: the serving snapshot. */
  abstract servable(): Promise<ServableRow[]>;
  /** Changes whenever a campaign is created, paused or resumed: the serving snapshot's version. */
  abstract version(): Promise<string>;
}
