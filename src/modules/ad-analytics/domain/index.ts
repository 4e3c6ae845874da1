export * from './stream-processor';
export * from './ad-chooser';
