// Response bodies of the ad-analytics API as the OpenAPI document shows them (documentation only:
// the services return plain objects of these shapes).
import { ApiProperty } from '@nestjs/swagger';

class AdView {
  @ApiProperty() id!: string;
  @ApiProperty({ format: 'uri' }) creativeUrl!: string;
  @ApiProperty() weight!: number;
}

export class CampaignView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() advertiserId!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty({ type: [AdView] }) ads!: AdView[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class ServeDecision {
  @ApiProperty({ description: 'send it back with the impression and click events' }) impressionId!: string;
  @ApiProperty() adId!: string;
  @ApiProperty() campaignId!: string;
  @ApiProperty({ format: 'uri' }) creativeUrl!: string;
}

export class TrackAccepted {
  @ApiProperty({ type: 'integer', description: 'events acknowledged by the log' }) accepted!: number;
}

class StatsBucket {
  @ApiProperty({ format: 'date-time', description: 'start of the 1-minute window' }) minute!: string;
  @ApiProperty({ type: 'integer' }) impressions!: number;
  @ApiProperty({ type: 'integer' }) clicks!: number;
  @ApiProperty({ type: 'number', nullable: true, description: 'clicks / impressions; null without impressions' }) ctr!: number | null;
}

class StatsTotals {
  @ApiProperty({ type: 'integer' }) impressions!: number;
  @ApiProperty({ type: 'integer' }) clicks!: number;
  @ApiProperty({ type: 'number', nullable: true }) ctr!: number | null;
}

class StatsWindow {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ type: [StatsBucket], description: 'closed windows with counts, oldest first' }) buckets!: StatsBucket[];
  @ApiProperty({ type: StatsTotals }) totals!: StatsTotals;
}

export class AdStats extends StatsWindow {
  @ApiProperty() adId!: string;
}

export class CampaignStats extends StatsWindow {
  @ApiProperty() campaignId!: string;
}

export class ReportRun {
  @ApiProperty({ example: '2026-11-23' }) date!: string;
  @ApiProperty({ format: 'date-time' }) builtAt!: string;
  @ApiProperty({ type: 'integer' }) buildMs!: number;
  @ApiProperty({ type: 'integer' }) filesRead!: number;
  @ApiProperty({ type: 'integer' }) recordsRead!: number;
  @ApiProperty({ type: 'integer' }) recordsSkipped!: number;
  @ApiProperty({ type: 'integer' }) duplicates!: number;
  @ApiProperty({ type: 'integer' }) unmatchedClicks!: number;
}

class HourFigures {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 23 }) hour!: number;
  @ApiProperty({ type: 'integer' }) impressions!: number;
  @ApiProperty({ type: 'integer' }) clicks!: number;
  @ApiProperty() ctr!: number;
}

class Figures {
  @ApiProperty({ type: 'integer' }) impressions!: number;
  @ApiProperty({ type: 'integer' }) clicks!: number;
  @ApiProperty() ctr!: number;
  @ApiProperty({ type: [HourFigures] }) hours!: HourFigures[];
}

class CampaignFigures extends Figures {
  @ApiProperty() campaignId!: string;
}

class AdFigures extends CampaignFigures {
  @ApiProperty() adId!: string;
}

class Reconciliation {
  @ApiProperty({ description: 'offline counts equal the real-time ones once late events are accounted for' }) matches!: boolean;
}

export class DailyReport {
  @ApiProperty({ example: '2026-11-23' }) date!: string;
  @ApiProperty({ type: 'string', nullable: true }) campaignId!: string | null;
  @ApiProperty({ type: ReportRun }) run!: ReportRun;
  @ApiProperty({ type: Figures }) totals!: Figures;
  @ApiProperty({ type: [CampaignFigures] }) campaigns!: CampaignFigures[];
  @ApiProperty({ type: [AdFigures] }) ads!: AdFigures[];
  @ApiProperty({ type: Reconciliation, description: 'offline vs on-time vs real-time counts, in total and per campaign and ad' }) reconciliation!: Reconciliation;
}
