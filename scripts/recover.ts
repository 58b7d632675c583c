/**
 * npm run recover -- [environment | state]
 * The recovery step of `npm run deploy` on its own (src/recovery/): for the synthesized stack, looks in AWS for
 * what an interrupted deploy created and the state does not hold, writes the import blocks the next plan adopts
 * them with, lists duplicates, and exits 1 on a conflict. Only reads from AWS. The deploy pipeline runs it before
 * it plans; run `npm run synth` first.
 */
import { runScript } from "../src/cli";
import { loadDeployments } from "../src/settings/environments";
import { cdktfTarget, recoveryFor } from "./cdktf-env";

if (require.main === module) {
  runScript({
    usage: "npm run recover -- [environment | state]   (after npm run synth)",
    description:
      "Looks in AWS for what an interrupted deploy left: adopts this stack's own resources through import blocks beside the synthesized configuration, lists duplicates, and exits 1 when a resource the stack would create exists without its tags. Changes nothing in AWS.",
    run: async (args) => {
      const deployments = await loadDeployments();
      const target = cdktfTarget(deployments, "deploy", args);
      const { proceed } = await recoveryFor(deployments, target, "deploy", false, { ...process.env, CHECKPOINT_DISABLE: "1" });
      if (!proceed) process.exit(1);
    },
  });
}
