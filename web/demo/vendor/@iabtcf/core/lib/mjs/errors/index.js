export * from './DecodingError.js';
export * from './EncodingError.js';
export * from './GVLError.js';
export * from './TCModelError.js';
