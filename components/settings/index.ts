export * from "./enums";
export * from "./schema";
export * from "./validate";
export * as rules from "./rules";
