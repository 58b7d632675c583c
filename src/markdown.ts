/** Markdown text helpers shared by the settings reference and the plan and cost summaries. */

/**
 * A CommonMark code span that shows `text` exactly: the fence is one backtick longer than the longest
 * run inside, padded when the text starts or ends with a backtick. In a table cell a pipe must be
 * escaped even inside code (GFM splits cells first); elsewhere a backslash would show.
 */
export function codeSpan(text: string, inTable = false): string {
  let clean = text.replace(/\r\n|\r|\n/g, " ");
  if (inTable) clean = clean.replace(/\|/g, "\\|");
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = clean.startsWith("`") || clean.endsWith("`") || (clean.startsWith(" ") && clean.endsWith(" ") && clean.trim() !== "") ? " " : "";
  return `${fence}${pad}${clean}${pad}${fence}`;
}
