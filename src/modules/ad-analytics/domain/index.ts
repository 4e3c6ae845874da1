export * from './stream-processor';
export * from './ad-chooser';
export * from './track-event';
export * from './minute-stats';
