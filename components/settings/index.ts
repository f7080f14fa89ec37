export * from "./enums";
export * from "./schema";
export * from "./validate";
export * as rules from "./rules";
export * from "./versions";
export * from "./wellKnown";
