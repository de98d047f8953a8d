export * from './TCFCommand.js';
export * from './CommandCallback.js';
