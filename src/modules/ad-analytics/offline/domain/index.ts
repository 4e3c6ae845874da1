export * from './archive-layout';
export * from './daily-report';
export * from './reconciliation';
export * from './report-views';
