/**
 * Words of the command lines a stack exports (verify, the probe loop, direct curls), quoted so that
 * `sh` hands each program exactly the intended argument. A URL of an ingress with no single address
 * starts with $INGRESS, the base URL the user sets (e.g. `export INGRESS=http://127.0.0.1:8080`):
 * that variable is left for the shell to expand, in double quotes, and the rest stays literal.
 */

/** The variable an app's URL starts with when the ingress has no single address. */
export const INGRESS_VARIABLE = "$INGRESS";

const PLAIN = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** Single quotes: the shell takes every character as it is. */
const literal = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One shell word that `sh` turns into `s`, with a leading $INGRESS expanded. */
export function shellWord(s: string): string {
    if (s.startsWith(INGRESS_VARIABLE)) {
        const rest = s.slice(INGRESS_VARIABLE.length);
        // Inside double quotes only $, `, \ and " are special (and ! in an interactive bash).
        if (/^[^$`\\"!]*$/.test(rest)) return `"${INGRESS_VARIABLE}${rest}"`;
        return `"${INGRESS_VARIABLE}"${literal(rest)}`;
    }
    return PLAIN.test(s) ? s : literal(s);
}

/** A command line from its words. */
export function shellLine(words: readonly string[]): string {
    return words.map(shellWord).join(" ");
}
