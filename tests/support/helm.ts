/** The real charts and helm, shared with the mesh lab (lab/charts.ts). */
export * from "../../lab/charts";
