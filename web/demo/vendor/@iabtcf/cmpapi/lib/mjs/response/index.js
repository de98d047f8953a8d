export * from './Disabled.js';
export * from './InAppTCData.js';
export * from './Ping.js';
export * from './Response.js';
export * from './TCData.js';
