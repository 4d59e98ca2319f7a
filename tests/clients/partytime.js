// Parse a podcast feed with podcast-partytime (Podverse's parser) and print what it shows as JSON.
// Usage: node partytime.js FEED.xml   (NODE_PATH names the node_modules holding podcast-partytime)
const fs = require("fs");
const pt = require("podcast-partytime");

const feed = pt.parseFeed(fs.readFileSync(process.argv[2], "utf8"), { allowMissingGuid: true });
process.stdout.write(JSON.stringify(feed));
