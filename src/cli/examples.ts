// The "Examples:" block at the end of every command's --help: a few commands a user can paste,
// each under a comment saying what it does. Every example is parsed by the real program in the
// tests, so a renamed flag breaks them there, not in a user's terminal.
// Not here: the layout (help.ts) or the options themselves (options.ts, main.ts).

import type { Command } from "commander";
import { addHelpNotes } from "./help.js";

export interface Example {
  /** What the command does, as a comment line above it. */
  says: string;
  /** The command line, starting with "charnn" (or a shell line that runs it). */
  run: string;
}

export const COMMAND_EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  train: [
    { says: "train an LSTM on a text; checkpoints go to checkpoints/", run: "charnn train corpora/harbour.txt" },
    { says: "a bigger GRU on a folder of texts, for ten minutes", run: "charnn train notes/ --model gru --hidden 256 --time 10m" },
    { says: "check the text and the settings without training", run: "charnn train input.txt --out runs/a --dry-run" },
    { says: "continue that run where it stopped, on the text it recorded", run: "charnn train --resume --out runs/a" },
  ],
  sample: [
    { says: "500 characters from checkpoints/latest.json", run: "charnn sample" },
    { says: "from a run's best checkpoint, starting from a prime", run: "charnn sample -c runs/a --best --prime 'ROMEO:' -n 300" },
    { says: "three repeatable samples as JSON", run: "charnn sample --count 3 --seed 7 --temp 0.8 --json" },
    { says: "a prompt: each line typed primes the model", run: "charnn sample -c runs/a -i" },
  ],
  eval: [
    { says: "bits per character of a held-out text", run: "charnn eval held-out.txt" },
    { says: "the best checkpoint of a run, as JSON", run: "charnn eval -c runs/a --best --json held-out.txt" },
    { says: "the ten lines least like the training text", run: "charnn eval --per-line - < lines.txt | sort -rn | head" },
  ],
  info: [
    { says: "describe checkpoints/latest.json", run: "charnn info" },
    { says: "a run's best checkpoint, and its loss curves as SVG", run: "charnn info runs/a --best --plot loss.svg" },
    { says: "the same facts as JSON", run: "charnn info -c runs/a/latest.json --json" },
  ],
  viz: [
    { says: "colour a text by unit 5 of the LSTM's cell state", run: "charnn viz --text 'she said \"hi\" and left' --unit 5 --state c" },
    { says: "the five units that best follow quotes", run: "charnn viz -c runs/a held-out.txt --find quotes --top 5" },
    { says: "units that follow digits, as a page to explore", run: "charnn viz held-out.txt --find '/\\d+/' --html digits.html" },
  ],
  export: [
    { says: "a run's latest model for PyTorch", run: "charnn export runs/a model.safetensors" },
    { says: "its best checkpoint instead", run: "charnn export -c runs/a --best best.safetensors" },
    { says: "one HTML file that samples offline in a browser", run: "charnn export runs/a model.html --format html" },
  ],
  import: [
    { says: "a model from charnn export or the PyTorch companion", run: "charnn import model.safetensors --out runs/imported" },
    { says: "a torch.nn state dict saved with a module. prefix", run: "charnn import torch.safetensors --out runs/torch --prefix module." },
  ],
  serve: [
    { says: "a page for the default run folder, checkpoints/", run: "charnn serve" },
    { says: "another folder, on a port of your choice", run: "charnn serve runs/a --port 8090" },
  ],
  completion: [
    { says: "bash, for this shell", run: "source <(charnn completion bash)" },
    { says: "zsh: a file in a folder on $fpath", run: "charnn completion zsh > ~/.zfunc/_charnn" },
    { says: "fish, for this shell", run: "charnn completion fish | source" },
  ],
};

/** The Examples block of one command, as help prose (laid out by addHelpNotes). */
export function examplesText(examples: readonly Example[]): string {
  return ["", "Examples:", ...examples.flatMap(({ says, run }) => [`  # ${says}`, `  ${run}`])].join("\n");
}

/** Adds its Examples block to every subcommand of `program` that has some. */
export function addExamples(program: Command): void {
  for (const command of program.commands) {
    const examples = COMMAND_EXAMPLES[command.name()];
    if (examples !== undefined) addHelpNotes(command, examplesText(examples));
  }
}
