/**
 * A dynamic provider as the SDK serializes it into the state, loaded as the dynamic-provider host loads
 * it: `pulumi.runtime.serializeFunction`'s text written to a module inside the project (so `pg`
 * resolves) and required. What it captures by value is inside that text; nothing else is.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

export async function withSerializedProvider<T>(provider: pulumi.dynamic.ResourceProvider, use: (p: pulumi.dynamic.ResourceProvider) => Promise<T>): Promise<T> {
  const sf = await pulumi.runtime.serializeFunction(() => provider);
  const tmp = path.join(__dirname, "..", "..", ".tmp");
  fs.mkdirSync(tmp, { recursive: true });
  const file = path.join(tmp, `serialized-provider-${process.pid}-${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(file, sf.text);
  try {
    const loaded = (require(file) as { [k: string]: () => pulumi.dynamic.ResourceProvider })[sf.exportName]();
    return await use(loaded);
  } finally {
    fs.rmSync(file, { force: true });
  }
}
