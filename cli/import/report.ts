/**
 * The import's report: for every Ingress, path and annotation one verdict, in
 * three words a reader can grep for: "mapped exactly", "mapped approximately:
 * <how, and what behaves differently on Istio>", "not mapped: <why>".
 */

/** "note" is a line that is no mapping: the order, the TLS settings, an app's summary. */
export type Verdict = "exact" | "approximate" | "none" | "note";

export interface Finding {
    verdict: Verdict;
    /** For "exact", an optional note; for "approximate", how and what differs; for "none", why. */
    detail?: string;
}

/** One line of the report, and the lines under it (an Ingress's paths and annotations). */
export interface ReportEntry extends Finding {
    subject: string;
    children?: ReportEntry[];
}

export const exact = (detail?: string): Finding => ({ verdict: "exact", ...(detail ? { detail } : {}) });
export const approximate = (detail: string): Finding => ({ verdict: "approximate", detail });
export const notMapped = (detail: string): Finding => ({ verdict: "none", detail });

export const VERDICT_WORDS: Readonly<Record<Verdict, string>> = {
    exact: "mapped exactly",
    approximate: "mapped approximately",
    none: "not mapped",
    note: "",
};

/** The worse of two verdicts: one path not mapped makes its Ingress at best approximate. */
export function worse(a: Verdict, b: Verdict): Verdict {
    const rank: Record<Verdict, number> = { note: 0, exact: 0, approximate: 1, none: 2 };
    return rank[a] >= rank[b] ? a : b;
}

/**
 * An Ingress's verdict from its parts: exact when every part is, "not mapped" when
 * no path of it was, approximate otherwise (with how many parts were not).
 */
export function summarize(children: readonly ReportEntry[], pathsMapped: number): Finding {
    if (pathsMapped === 0) return notMapped("none of its paths was mapped (see below)");
    const lost = children.filter((c) => c.verdict === "none").length;
    const approx = children.filter((c) => c.verdict === "approximate").length;
    if (lost === 0 && approx === 0) return exact();
    const parts = [approx ? `${approx} approximately` : "", lost ? `${lost} not mapped` : ""]
        .filter(Boolean)
        .join(", ");
    return approximate(`${parts} of the ${children.length} lines below`);
}

/** An entry's own line, without the lines under it. */
function entryLine(e: ReportEntry, indent: string): string {
    const words = e.verdict === "note" ? "" : `: ${VERDICT_WORDS[e.verdict]}`;
    return `${indent}${e.subject}${words}${e.detail ? `: ${e.detail}` : ""}\n`;
}

/** The report as one text (writeReport's pieces, joined). */
export function formatReport(entries: readonly ReportEntry[]): string {
    const pieces: string[] = [];
    writeReport(entries, (piece) => pieces.push(piece));
    return pieces.join("");
}

/**
 * formatReport's text, handed to `write` in pieces of about `chunk` characters, so that the whole text is never held
 * at once (and each piece, well under V8's large-object size, is collected young).
 */
export function writeReport(entries: readonly ReportEntry[], write: (s: string) => void, chunk = 1 << 14): void {
    let pending: string[] = [];
    let size = 0;
    const line = (e: ReportEntry, indent: string) => {
        const text = entryLine(e, indent);
        pending.push(text);
        size += text.length;
        if (size >= chunk) {
            write(pending.join(""));
            pending = [];
            size = 0;
        }
        for (const c of e.children ?? []) line(c, `${indent}  `);
    };
    for (const e of entries) line(e, "");
    if (pending.length) write(pending.join(""));
}
