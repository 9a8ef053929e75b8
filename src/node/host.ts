// The facts about this process that a checkpoint records and the portable core cannot read for
// itself: charnn's version, node's version and the platform. Nothing else.

import type { HostFacts } from "../core/checkpoint/model.js";
import { packageVersion } from "./version.js";

export function hostFacts(): HostFacts {
  return { charnnVersion: packageVersion(), node: process.version, platform: `${process.platform}-${process.arch}` };
}
