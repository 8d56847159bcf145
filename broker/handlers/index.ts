/** Loads every API handler; each registers itself with the registry as its module is evaluated. */
import './18-api-versions.js';
