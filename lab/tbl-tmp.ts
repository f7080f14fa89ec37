import * as fs from "fs";
import { formatLiveTable } from "./live/table";
console.log(formatLiveTable(JSON.parse(fs.readFileSync(process.argv[2], "utf8"))));
