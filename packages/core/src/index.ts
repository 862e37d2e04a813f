export * from './auth.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './tenants.ts';
export * from './users.ts';
export * from './sync.ts';
export * from './dashboard.ts';
