// A load worker process: `bun src/testing/load/worker.ts TASK_JSON`, started by the coordinator.
import { botsWorker, type BotsTask } from "./bots.ts";
import { chatWorker, type ChatTask } from "./chat.ts";
import { churnWorker, type ChurnTask } from "./churn.ts";
import { idleWorker, type IdleTask } from "./idle.ts";
import { worldBotsWorker, type WorldBotsTask } from "./world-bots.ts";

type Task = ChatTask | IdleTask | ChurnTask | BotsTask | WorldBotsTask;

const task = JSON.parse(process.argv[2]!) as Task;
switch (task.kind) {
  case "chat":
    await chatWorker(task);
    break;
  case "idle":
    await idleWorker(task);
    break;
  case "churn":
    await churnWorker(task);
    break;
  case "bots":
    await botsWorker(task);
    break;
  case "world":
    await worldBotsWorker(task);
    break;
}
process.exit(0);
