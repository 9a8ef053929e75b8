// Whether a process id names a running process on this host: how the store tells a dead
// writer's leftovers and a dead run's lock from live ones. Nothing else.

import { errnoCode } from "./errors.js";

/** Whether `pid` names a running process on this host (EPERM: it runs, as another user). */
export function processIsAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) !== "ESRCH";
  }
}

