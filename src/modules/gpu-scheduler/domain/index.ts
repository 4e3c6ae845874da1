export * from './model';
export * from './runtime-predictor';
export * from './placement';
export * from './selection';
export * from './schedule-cycle';
export * from './feasibility';
export * from './fragmentation';
