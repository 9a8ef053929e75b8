#!/usr/bin/env node
// Writes corpora/harbour.txt: a small, deterministic corpus for charnn's first run. It is a
// made-up harbour-master's log — dated entries, weather, ships, sayings and short dialogues —
// generated from a little grammar with a fixed seed, so that a model learns visible structure
// (dates, names, quotes, line shapes) within a minute or two. Run: node scripts/make_corpus.mjs

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import seedrandom from "seedrandom";

const random = seedrandom.alea("harbour");
const pick = (list) => list[Math.floor(random() * list.length)];
const chance = (p) => random() < p;

const ships = ["Marigold", "Old Faithful", "Sea Lark", "Perdita", "Kittiwake", "Brave Ann", "Curlew", "Morning Star",
  "Lady Grey", "Heron", "Saint Brendan", "Dogwatch", "Halcyon", "Wren", "Cormorant", "Fair Isle"];
const people = ["Tamsin", "old Jory", "the pilot", "Mrs. Penhallow", "young Kit", "the bosun", "Élodie", "the customs man",
  "Captain Rowe", "Zoë", "the net-mender", "Hal", "the lamp-keeper", "Morwenna"];
const winds = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"];
const skies = ["clear", "overcast", "grey and low", "bright after rain", "hazy", "thick with fog", "squally", "still"];
const seas = ["calm", "slight", "moderate", "rough", "heavy", "a long swell from the west"];
const cargo = ["salt cod", "slate", "china clay", "oranges", "coal", "timber", "tin", "barley", "wine from Bordeaux", "lamp oil"];
const ports = ["Falmouth", "Brest", "Cork", "Bristol", "Saint-Malo", "Penzance", "Plymouth", "La Coruña", "Swansea"];
const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const sayings = [
  "A calm sea never made a sailor.",
  "Red sky at night, the harbour's delight.",
  "Mend the net before the shoal comes in.",
  "The tide waits for no one, and the wind waits for less.",
  "Trust the glass, but watch the gulls.",
  "A small leak will sink a great ship.",
  "When the lamp smokes, the weather turns.",
  "Every harbour has a rock nobody charted.",
  "Fog is patient; be more patient than the fog.",
  "Coil the rope the way you'd want to find it.",
];
const doings = ["came in on the flood", "sailed on the ebb", "lay at anchor in the roads", "tied up at the north quay",
  "was towed off the bar", "stood off until the fog lifted", "unloaded by lamplight", "took on water and bread"];
const remarks = ["All well.", "Lamp trimmed at dusk.", "Bell rung twice for fog.", "Nothing to report.",
  "Gulls low over the water.", "Pilot boat out at noon.", "Swell breaking on the bar.", "Two boats late; both home by dark."];
const questions = ["Is she fit to sail?", "What's the glass doing?", "Who has the night watch?", "Where's the harbour master?",
  "Did the pilot come back?", "Will it hold till morning?"];
const answers = ["Ask the tide, not me.", "Falling, and fast.", "Steady as a church.", "I'd not trust it past midnight.",
  "Aye, if the wind stays west.", "Not before the fog lifts."];

const capitalise = (s) => s[0].toUpperCase() + s.slice(1);
const number = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

function entry(day, month, year) {
  const lines = [`${day} ${month} ${year}.`];
  lines.push(`Wind ${pick(winds)}, force ${number(1, 8)}. Sky ${pick(skies)}. Sea ${pick(seas)}.`);
  for (let i = number(1, 3); i > 0; i--) {
    const ship = pick(ships);
    const tons = number(2, 40) * 10;
    lines.push(chance(0.5)
      ? `The ${ship} ${pick(doings)}, ${tons} tons of ${pick(cargo)} from ${pick(ports)}.`
      : `The ${ship} ${pick(doings)}; bound for ${pick(ports)} with ${pick(cargo)}.`);
  }
  if (chance(0.45)) {
    const speaker = pick(people), other = pick(people);
    lines.push(`${capitalise(speaker)} said to ${other}: "${pick(questions)}"`);
    lines.push(`And ${other} said: "${pick(answers)}"`);
  }
  if (chance(0.3)) lines.push(`As ${pick(people)} always says, ${pick(sayings).toLowerCase()}`);
  lines.push(pick(remarks));
  return lines.join("\n");
}

const entries = [];
let year = 1887;
for (let m = 0; entries.length < 1400; m++) {
  const month = months[m % 12];
  if (m > 0 && m % 12 === 0) year++;
  for (let d = 1; d <= 28; d += number(2, 6)) entries.push(entry(d, month, year));
}
const text = `THE HARBOUR LOG\n\n${entries.join("\n\n")}\n`;
const out = fileURLToPath(new URL("../corpora/harbour.txt", import.meta.url));
writeFileSync(out, text);
process.stderr.write(`wrote ${out}: ${text.length} characters\n`);
