// The report as clients read it: daily and hourly impressions, clicks and CTR per ad and per campaign,
// rolled up from the stored (hour, ad, campaign) cells. Offline (exact) counts only; the on-time split
// belongs to the reconciliation.
import { ReportCell, RollUp } from './daily-report';
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
  const roll = new RollUp(() => new Acc());
  for (const c of cells) {
    if (c.impressions === 0 && c.clicks === 0) continue; // cells only holding on-time counts of other views
    for (const acc of roll.of(c.adId, c.campaignId)) acc.add(c);
  }
  return roll.rows((acc) => acc.figures());
}
