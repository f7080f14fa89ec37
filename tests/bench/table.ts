/** What the scale benchmarks share: their table, and running one alone with `npx tsx`. */

/** Rows under a head, the first column left-aligned, the others right-aligned. */
export function table(head: string[], cells: string[][]): string[] {
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) => c.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join("  ");
    return [line(head), ...cells.map(line)];
}

/** Runs a benchmark alone: sizes from the command line (default 100, 1,000 and 5,000), its table printed. */
export function runAlone<R>(
    file: string,
    items: string,
    bench: (sizes: number[]) => Promise<R[]>,
    format: (rows: R[]) => string,
): void {
    const args = process.argv.slice(2).map(Number);
    if (args.some((n) => !Number.isInteger(n) || n < 1)) {
        console.error(`usage: npx tsx ${file} [sizes...]   (whole numbers of ${items}; default 100 1000 5000)`);
        process.exitCode = 2;
        return;
    }
    bench(args.length ? args : [100, 1000, 5000])
        .then((rows) => console.log(format(rows)))
        .catch((e) => {
            console.error(e instanceof Error ? e.message : e);
            process.exitCode = 1;
        });
}
