// The report as clients read it: daily and hourly impressions, clicks and CTR per ad and per campaign,
// rolled up from the stored (hour, ad, campaign) cells. Offline (exact) counts only; the on-time split
// belongs to the reconciliation.
import { ReportCell } from './daily-report';
import { ctr } from './reconciliation';

export interface HourFigures {
  hour: number;
  impressions: number;
  clicks: number;
  ctr: number;
}
export interface Figures {
  impressions: number;
  clicks: number;
  ctr: number;
  hours: HourFigures[];
}
export interface AdFigures extends Figures {
  adId: string;
  campaignId: string;
}
export interface CampaignFigures extends Figures {
  campaignId: string;
}
export interface ReportView {
  totals: Figures;
  campaigns: CampaignFigures[];
  ads: AdFigures[];
}

class Acc {
  impressions = 0;
  clicks = 0;
  readonly hours = new Map<number, { impressions: number; clicks: number }>();
  add(c: ReportCell): void {
    this.impressions += c.impressions;
    this.clicks += c.clicks;
    let h = this.hours.get(c.hour);
    if (!h) this.hours.set(c.hour, (h = { impressions: 0, clicks: 0 }));
    h.impressions += c.impressions;
    h.clicks += c.clicks;
  }
  figures(): Figures {
    const hours = [...this.hours.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([hour, h]) => ({ hour, impressions: h.impressions, clicks: h.clicks, ctr: ctr(h) }));
    return { impressions: this.impressions, clicks: this.clicks, ctr: ctr(this), hours };
  }
}

export function reportView(cells: readonly ReportCell[]): ReportView {
  const totals = new Acc();
  const ads = new Map<string, { adId: string; campaignId: string; acc: Acc }>();
  const campaigns = new Map<string, Acc>();
  for (const c of cells) {
    if (c.impressions === 0 && c.clicks === 0) continue; // cells only holding on-time counts of other views
    totals.add(c);
    const k = `${c.adId}\u0000${c.campaignId}`;
    let a = ads.get(k);
    if (!a) ads.set(k, (a = { adId: c.adId, campaignId: c.campaignId, acc: new Acc() }));
    a.acc.add(c);
    let camp = campaigns.get(c.campaignId);
    if (!camp) campaigns.set(c.campaignId, (camp = new Acc()));
    camp.add(c);
  }
  return {
    totals: totals.figures(),
    campaigns: [...campaigns.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([campaignId, acc]) => ({ campaignId, ...acc.figures() })),
    ads: [...ads.values()]
      .sort((a, b) => (a.campaignId < b.campaignId ? -1 : a.campaignId > b.campaignId ? 1 : a.adId < b.adId ? -1 : a.adId > b.adId ? 1 : 0))
      .map((a) => ({ adId: a.adId, campaignId: a.campaignId, ...a.acc.figures() })),
  };
}
