/** Loads every API handler; each registers itself with the registry as its module is evaluated. */
import './18-api-versions.js';
import './03-metadata.js';
import './02-list-offsets.js';
import './00-produce.js';
import './01-fetch.js';
import './19-create-topics.js';
import './20-delete-topics.js';
import './37-create-partitions.js';
import './32-describe-configs.js';
import './33-alter-configs.js';
import './44-incremental-alter-configs.js';
import './21-delete-records.js';
import './60-describe-cluster.js';
import './35-describe-log-dirs.js';
import './75-describe-topic-partitions.js';
import './23-offset-for-leader-epoch.js';
