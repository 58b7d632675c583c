import { describe, expect, inject, it } from "vitest";
import { templateProblems } from "../../src/work-pool/template";
import { api, renderTemplateForTest } from "../support/prefect-real";
import { synth, type Variant, VARIANTS } from "../support/synth";
import { TEMPLATE_CORPUS } from "../support/template-corpus";

/**
 * Templates sent to the real server's create route (what `prefect work-pool create` calls): the stack's own, for
 * every variant the tests build, and the corpus whose answers templateProblems and the stand-in CLI are held to in
 * the fast tier.
 */
const server = inject("prefectServer");
const create = (name: string, template: unknown) => api(server, "POST", "/work_pools/", { name, type: "ecs", base_job_template: template });

describe("base job templates, sent to the real Prefect server", () => {
  it.each(Object.keys(VARIANTS) as Variant[])("GIVEN the %s stack's template THEN the server accepts it as it is", async (variant) => {
    const { json } = synth({ ...VARIANTS[variant], flow_run_efs: true, flow_run_spot: variant === "default" });
    const template = JSON.parse(renderTemplateForTest((json as any).locals.base_job_template));
    expect(templateProblems(template)).toEqual([]);
    const created = await create(`templates-${variant.replace(/_/g, "-")}`, template);
    expect(created.status, JSON.stringify(created.json).slice(0, 500)).toBe(201);
    expect(created.json.base_job_template).toEqual(template);
  });

  it.each(TEMPLATE_CORPUS.map((c, i) => [c.name, c, i] as const))(
    "GIVEN a template with %s THEN the server does what the corpus says",
    async (_, c, i) => {
      const created = await create(`corpus-${i}`, c.template);
      const answer = created.status === 201 ? "accepts" : "refuses";
      expect(answer, `${c.because}: HTTP ${created.status} ${JSON.stringify(created.json).slice(0, 300)}`).toBe(c.server);
      // A refusal is the validation's 422, or a 500 where the server's code fails on a value of the wrong type.
      if (answer === "refuses") expect([422, 500]).toContain(created.status);
      expect(templateProblems(c.template).length === 0 ? "accepts" : "refuses").toBe(answer);
    },
  );
});
