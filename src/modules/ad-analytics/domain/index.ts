export * from './stream-processor';
export * from './ad-chooser';
export * from './track-event';
export * from './minute-stats';
export * from './archive-layout';
export * from './daily-report';
export * from './reconciliation';
export * from './report-views';
