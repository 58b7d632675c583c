import { ALL_CONTROL_CHARACTERS } from "../settings/service-rules";
import type { Recovery } from "./recover";

/** Ids and names come from AWS: no control character of theirs reaches the terminal. */
const safe = (text: string) => text.replace(ALL_CONTROL_CHARACTERS, "?");

/** What the deploy says about leftovers, before Terraform plans (empty when there is nothing to say). */
export function recoveryReport(recovery: Recovery, options: { removeDuplicates: boolean; command: "deploy" | "destroy" }): string[] {
  const lines: string[] = [];
  if (recovery.missing && !recovery.adoptions.length && !recovery.conflicts.length) {
    lines.push(`Looked in AWS for the ${recovery.missing} resource(s) the state does not hold: none is there yet.`);
  }
  if (recovery.adoptions.length) {
    lines.push(
      options.command === "deploy"
        ? `Adopting ${recovery.adoptions.length} resource(s) an interrupted deploy created but did not record (Terraform import blocks; the plan shows each as "will be imported"):`
        : `Importing ${recovery.adoptions.length} resource(s) an interrupted deploy created but did not record, so the destroy deletes them too:`,
    );
    for (const a of recovery.adoptions) lines.push(`  ${safe(a.address)}  ${safe(a.id)}  (${a.proof})`);
  }
  if (recovery.conflicts.length) {
    lines.push(
      options.command === "deploy"
        ? `Refusing to deploy: ${recovery.conflicts.length} resource(s) the stack would create already exist and are not adopted. Nothing was changed.`
        : `Left alone by the destroy: ${recovery.conflicts.length} resource(s) with this stack's names that are not this stack's:`,
    );
    for (const c of recovery.conflicts) lines.push(`  ${safe(c.address)}  ${safe(c.id)}: ${safe(c.problem)}`);
  }
  if (recovery.duplicates.length) {
    const total = recovery.duplicates.reduce((sum, d) => sum + (d.monthlyUsd ?? 0), 0);
    lines.push(
      `${recovery.duplicates.length} duplicate(s) an earlier interrupted run left: they carry this stack's address tags but the state holds another resource at that address (about $${total.toFixed(2)} a month while they stay):`,
    );
    for (const d of recovery.duplicates) {
      const cost = d.monthlyUsd === undefined ? "not priced" : `$${d.monthlyUsd.toFixed(2)}/month`;
      lines.push(`  ${safe(d.address)}  ${safe(d.id)}  ${cost}`);
    }
    if (!options.removeDuplicates)
      lines.push(`  They are left alone. To delete them: npm run ${options.command} -- [environment] --remove-duplicates`);
  }
  if (recovery.unchecked.length) {
    lines.push(
      `Not looked up (recovery has no lookup for these types yet; if an interrupted deploy created one, its create fails and it needs \`terraform import\`): ${recovery.unchecked.map(safe).join(", ")}`,
    );
  }
  return lines;
}
