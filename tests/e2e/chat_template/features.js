// Small templates, one per interpreter feature, rendered by the references and by Lantern.
// `refs` lists the references a case is checked against: "js" (@huggingface/jinja) and "py"
// (Python Jinja2 configured as transformers configures it). Where the two disagree, Python is
// what transformers and vLLM run, so those cases are checked against "py" only; the few
// forgiving behaviours we share with the JS port (where Python raises) are "js" only.
"use strict";

const messages = [
  { role: "system", content: "sys" },
  { role: "user", content: "hi" },
  { role: "assistant", content: "hello" },
  { role: "user", content: "bye" },
];
const data = {
  name: "Zoë \"Z\" \\ 東京",
  nested: { list: [1, 2.5, true, null, "x"], empty_list: [], empty_obj: {} },
  n: -3,
};

const both = ["js", "py"];
const py = ["py"];
const js = ["js"];

module.exports = [
  ["loop_variables", both, { items: ["a", "b", "c"] },
   "{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.length }}" +
   "{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}[{{ loop.previtem }}|{{ loop.nextitem }}] {% endfor %}"],
  ["for_else_and_filter", both, { nums: [1, 2, 3, 4, 5] },
   "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in nums if x is odd %}{{ x }}{{ ',' if not loop.last else '' }}{% endfor %}"],
  ["break_continue", both, {},
   "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"],
  ["unpacking", both, { d: { a: 1, b: "two" } },
   "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d | items %}{{ k }}{% endfor %}" +
   "{% for k in d %}<{{ k }}>{% endfor %}{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}{% set p, q = 5, 6 %}{{ p * q }}"],
  ["namespace_counter", both, { messages },
   "{% set ns = namespace(count=0, last='') %}{% for m in messages %}{% if m.role == 'user' %}" +
   "{% set ns.count = ns.count + 1 %}{% set ns.last = m.content %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.last }}"],
  ["py_loop_scoping", py, {},
   "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}({{ x }}){% endfor %}{{ x }}"],
  ["set_block", both, { name: "world" },
   "{% set greeting %}Hello {{ name }}!{% endset %}{{ greeting | upper }}"],
  ["macros", both, {},
   "{% macro tag(name, value='x', close=true) %}<{{ name }}>{{ value }}{% if close %}</{{ name }}>{% endif %}{% endmacro %}" +
   "{{ tag('a') }}{{ tag('b', 'y') }}{{ tag('c', close=false) }}{{ tag(name='d', value=3) }}" +
   "{% macro twice(s) %}{{ tag(s) ~ tag(s) }}{% endmacro %}{{ twice('e') }}"],
  ["whitespace_control", both, { items: ["a", "b"] },
   "<ul>\n  {% for x in items %}\n    <li>{{ x }}</li>\n  {% endfor %}\n</ul>\n  {#- comment -#}\n  tail {{- '!' -}}   end\n" +
   "{%- if true %}\n\tyes\n{% endif -%}\n   after {# inline #} x\n{{ 'v' }}\n{{- 'w' }}  \n"],
  ["trim_and_lstrip_blocks", both, { messages },
   "{% for m in messages %}\n    {% if m.role == 'user' %}\n        U:{{ m.content }}\n    {% else %}\n        O:{{ m.content }}\n    {% endif %}\n{% endfor %}\n"],
  ["string_filters", both, {},
   "{{ '  Hi  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world' | capitalize }}|" +
   "{{ 'hello big world' | title }}|{{ 'a-b-c' | replace('-', '+') }}|{{ 'héllo' | length }}|{{ 'x' | safe }}"],
  ["indent_filter", both, { text: "a\nb\n\nc" },
   "[{{ text | indent(2) }}][{{ text | indent(4, true) }}][{{ text | indent }}][{{ text | indent(2, false, true) }}]"],
  ["join_default_first_last", both, { v: "value" },
   "{{ ['a', 'b'] | join(', ') }}|{{ 'abc' | join('-') }}|{{ missing | default('dflt') }}|{{ '' | default('empty', true) }}|" +
   "{{ v | default('n') }}|{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}|{{ ['x', 'y'] | length }}"],
  ["number_filters", both, {},
   "{{ '42' | int + 1 }}|{{ '3.5' | float }}|{{ 7 | string }}|{{ 3.7 | int }}|{{ -3 | abs }}|{{ 'abc' | int }}|{{ 2 | float }}"],
  ["tojson", both, { data },
   "{{ data | tojson }}\n{{ data | tojson(indent=2) }}\n{{ data.nested.empty_list | tojson }}{{ data.nested.empty_obj | tojson(indent=4) }}\n{{ 'a\"b' | tojson }}"],
  ["tojson_sort_keys_separators", both, { d: { b: 1, a: [1, 2], c: { z: 1, y: 2 } } },
   "{{ d | tojson(sort_keys=true) }}|{{ d | tojson(separators=(',', ':')) }}"],
  ["select_reject_map", both, { messages },
   "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(' / ') }}|" +
   "{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join(',') }}|" +
   "{{ messages | selectattr('content') | list | length }}"],
  ["sort_unique_reverse_dictsort", both, { d: { b: 2, a: 1, C: 3 } },
   "{{ [3, 1, 2] | sort | join(',') }}|{{ ['b', 'A', 'c'] | sort | join(',') }}|{{ [3, 1, 2] | sort(reverse=true) | join(',') }}|" +
   "{{ [1, 2, 2, 3, 1] | unique | join(',') }}|{{ [1, 2, 3] | reverse | join }}|{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}"],
  ["tests", both, { s: "str", n: 4, f: 1.5, m: { a: 1 }, l: [1], t: true, z: null },
   "{% for name in ['s', 'n', 'f', 'm', 'l', 't', 'z'] %}{{ name }}:" +
   "{% set v = {'s': s, 'n': n, 'f': f, 'm': m, 'l': l, 't': t, 'z': z}[name] %}" +
   "{% if v is defined %}d{% endif %}{% if v is undefined %}u{% endif %}{% if v is none %}N{% endif %}" +
   "{% if v is string %}S{% endif %}{% if v is mapping %}M{% endif %}{% if v is integer %}I{% endif %}" +
   "{% if v is boolean %}B{% endif %}{% if v is true %}T{% endif %}{% if v is false %}0{% endif %}" +
   "{% if v is sequence %}Q{% endif %}{% if v is not none and v is not string and v is not mapping and v is iterable %}L{% endif %} {% endfor %}" +
   "{% if n is even %}even{% endif %}{% if 3 is odd %}odd{% endif %}{% if n == 4 %}eq{% endif %}" +
   "{% if 'ab' is lower %}lo{% endif %}{% if 'AB' is upper %}up{% endif %}{% if range is callable %}call{% endif %}"],
  ["string_methods", both, { s: "  Hello, World  ", csv: "a,b,,c" },
   "[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ csv.split(',') | join('|') }}][{{ 'a  b c'.split() | join('|') }}]" +
   "[{{ 'a b c'.split(' ', 1) | join('|') }}][{{ 'T' if s.strip().startswith('Hello') else 'F' }}{{ 'T' if s.endswith('x') else 'F' }}]" +
   "[{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}{{ 'aXa'.replace('a', 'b') }}{{ 'one two'.title() }}{{ 'abc'.capitalize() }}]"],
  ["dict_methods", both, { d: { a: 1, b: "x" } },
   "{{ d.get('a') }}{{ d.get('zz', 'dflt') }}{% if d.get('zz') is none %}none{% endif %}|{{ d.keys() | join(',') }}|{{ d.values() | join(',') }}|" +
   "{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}|{{ d['b'] }}{{ d.b }}"],
  ["slicing_and_indexing", both, { items: ["a", "b", "c", "d"] },
   "{{ items[::-1] | join }}|{{ items[1:] | join }}|{{ items[:-1] | join }}|{{ items[1:3] | join }}|{{ items[::2] | join }}|" +
   "{{ 'hello'[1:3] }}|{{ items[-1] }}|{{ items[0] }}{{ items.1 }}|{{ 'hello'[::-1] }}"],
  ["expressions", both, { flag: false, x: 7 },
   "{{ 'yes' if flag else 'no' }}|{{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 1 + 2 * 3 }} {{ -7 // 2 }} {{ (1 + 2) * 3 }}|" +
   "{{ 'a' ~ 1 ~ 'b' }}|{{ 'a' + 'b' }}|{% if 'b' in 'abc' and 2 in [1, 2] and 'k' in {'k': 1} and 'z' not in 'abc' %}in{% endif %}|" +
   "{% if not flag or x > 5 %}or{% endif %}{% if x >= 7 and x <= 7 and x != 8 %}cmp{% endif %}|{{ x - 10 }}|{{ 1.5 + 1 }}"],
  ["literals", both, {},
   "{% set t = (1, 2) %}{{ t[0] }}{% set d = {'a': 1, 'b': [1, 2], 'c': {'d': 'e'}} %}{{ d.b[1] }}{{ d['a'] }}{{ d.c.d }}" +
   "{{ 'tab\\there \"q\" \\\\ \\u00e9\\x41' }}{{ \"it's\" }}{{ [1, 2] | length }}"],
  ["raise_exception", both, { x: 3 },
   "before{% if x > 1 %}{{ raise_exception('x too big: ' ~ x) }}{% endif %}after"],
  ["strftime_now", both, {}, "{{ strftime_now('%Y') | length }}"],
  ["filter_block", both, { name: "abc" }, "{% filter upper %}hello {{ name }}{% endfilter %}!"],
  ["nested_defined_checks", both, { messages: [{ role: "user", content: "c", extra: { k: "v" } }] },
   "{% for m in messages %}{% if m.extra is defined and m.extra.k is defined %}{{ m.extra.k }}{% endif %}" +
   "{% if m.missing is defined %}bad{% endif %}{% if m.missing is not defined %}ok{% endif %}{% endfor %}"],
  ["empty_template_and_text", both, {}, "just text, no tags\n"],

  // Composite templates in the style of tool-calling chat templates.
  ["composite_tool_prompt", both, {
    messages: [
      { role: "system", content: "  Be precise.  " },
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: null, tool_calls: [{ function: { name: "get_weather", arguments: { city: "Paris", days: 2 } } }] },
      { role: "tool", content: "sunny" },
    ],
    tools: [{ type: "function", function: { name: "get_weather", description: "Weather",
      parameters: { type: "object", properties: { city: { type: "string", description: "City" }, days: { type: "integer" } }, required: ["city"] } } }],
  },
  "{%- macro render_params(props, required) -%}\n" +
  "    {%- for name, spec in props | items %}\n" +
  "        {{- '\\n  - ' + name + ' (' + spec.type + (', required' if name in required else '') + ')' }}\n" +
  "        {%- if spec.description is defined %}: {{ spec.description }}{% endif %}\n" +
  "    {%- endfor %}\n" +
  "{%- endmacro -%}\n" +
  "{%- if messages[0].role == 'system' %}\n" +
  "    {%- set system = messages[0].content | trim %}\n" +
  "    {%- set messages = messages[1:] %}\n" +
  "{%- else %}\n" +
  "    {%- set system = 'default' %}\n" +
  "{%- endif %}\n" +
  "<<SYS>>{{ system }}\n" +
  "{%- for tool in tools %}\n" +
  "Tool {{ tool.function.name }}:{{ render_params(tool.function.parameters.properties, tool.function.parameters.required) }}\n" +
  "{{ tool | tojson(indent=4) }}\n" +
  "{%- endfor %}\n" +
  "<</SYS>>\n" +
  "{% for message in messages %}\n" +
  "    {% if message.role == 'assistant' and message.tool_calls is defined %}\n" +
  "        {% for call in message.tool_calls %}\n" +
  "[CALL {{ call.function.name }}(\n" +
  "            {%- for arg_name, arg_val in call.function.arguments | items -%}\n" +
  "                {{- arg_name + '=' + (arg_val | tojson) -}}{{- ', ' if not loop.last -}}\n" +
  "            {%- endfor -%}\n" +
  ")]\n" +
  "        {% endfor %}\n" +
  "    {% elif message.role == 'tool' %}\n" +
  "[RESULT {{ message.content }}]\n" +
  "    {% else %}\n" +
  "[{{ message.role | upper }}] {{ message.content }}\n" +
  "    {% endif %}\n" +
  "{% endfor %}\n"],
  ["py_selectattr_undefined_test", py, {
    messages: [
      { role: "user", content: "a" }, { role: "assistant", content: "b", tool_calls: [] },
      { role: "tool", content: "t" }, { role: "user", content: "c" }],
  },
  "{%- set loop_messages = messages | rejectattr('role', 'equalto', 'tool') | list %}\n" +
  "{%- for message in loop_messages | selectattr('tool_calls', 'undefined') %}\n" +
  "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n" +
  "        {{- raise_exception('roles must alternate, message ' ~ loop.index) }}\n" +
  "    {%- endif %}\n" +
  "    {{- '[' ~ loop.index ~ ':' ~ message.role ~ ']' }}\n" +
  "{%- endfor %}"],
  ["composite_alternation_raises", both, {
    messages: [{ role: "user", content: "a" }, { role: "user", content: "b" }],
  },
  "{%- for message in messages %}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
  "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}" +
  "{{ message.content }}{%- endfor %}"],

  // Python semantics where @huggingface/jinja differs.
  ["py_printing", py, { l: [1, "a", true, null], d: { k: [1.0, 2] }, f: 1.0, b: true },
   "{{ l }}|{{ d }}|{{ f }}|{{ b }}|{{ none }}|{{ 1e20 }}|{{ 0.1 + 0.2 }}|{{ 2 ** -1 }}"],
  ["py_strip_args", py, { s: "\n\n  text \n" }, "[{{ s.strip('\\n') }}][{{ s.lstrip('\\n') }}][{{ s.rstrip(' \\n') }}][{{ 'xxaxx'.strip('x') }}]"],
  ["py_capitalize_title", py, {}, "{{ 'hELLO wORLD' | capitalize }}|{{ \"they're-here (now)\" | title }}|{{ \"they're\".title() }}"],
  ["py_unicode_length", py, {}, "{{ '😀é' | length }}|{{ '😀é'[0] }}|{{ '😀é'[::-1] }}"],
  ["py_filters", py, { items: [3, 1, 2], words: ["b", "A", "c"] },
   "{{ items | max }}{{ items | min }}|{{ words | max }}|{{ 2.567 | round(2) }}|{{ 2.5 | round }}|{{ '<a & \"b\">' | e }}|" +
   "{{ items | count }}|{{ 'ab' | list | join(',') }}|{{ 'ab' | first }}|{{ items | sum }}|{{ '%s-%d' | format('a', 3) }}|" +
   "{{ [-7 % 3, 7 % -3] | join(',') }}|{{ 6 is divisibleby 3 }}|{{ 'one two  three' | wordcount }}"],
  ["py_string_methods", py, {}, "{{ 'hello'.find('l') }}{{ 'hello'.find('z') }}|{{ '{} and {}'.format('a', 1) }}|{{ 'a\\nb'.splitlines() | join('|') }}|{{ 'x'.join(['1', '2']) }}"],
  ["py_loop_cycle_and_string_iteration", py, {}, "{% for c in 'abc' %}{{ loop.cycle('odd', 'even') }}{{ c }}{% endfor %}"],
  ["py_percent_formatting", py, { x: "v" }, "{{ '%s=%d' % ('a', 3) }}|{{ '%s!' % x }}|{{ '100%%' % () }}"],
  ["py_crlf_template", py, { items: ["a", "b"] }, "{% for x in items %}\r\n  {{ x }}\r\n{% endfor %}\r\n'\r'{{ 'q\r\nr' }}\r\n"],
  ["py_raw_block", py, {}, "{% raw %}{{ not evaluated }}{% endraw %}"],
  ["py_none_default", py, { v: "value" }, "{{ none | default('x') }}|{{ none | default('x', true) }}|{{ v | d('n') }}{{ missing | d('m') }}"],
  ["py_tests_with_arguments", py, { n: 4, f: 1.5 }, "{% if f is float %}F{% endif %}{% if n is float %}bad{% endif %}{% if n is equalto 4 %}eq{% endif %}{% if n is eq(4) %}eq2{% endif %}{% if n is ge 3 %}ge{% endif %}{% if 'a' is in 'abc' %}in{% endif %}"],
  ["py_number_test_bool", py, {}, "{% if missing is sequence and missing is iterable %}undef-seq{% endif %}{% if true is number %}num{% endif %}{% if {'a': 1} is iterable %}iter{% endif %}"],

  // Forgiving where Python raises: attribute access on undefined yields undefined.
  ["js_undefined_attribute", js, {}, "[{{ missing.attr }}][{{ missing['k'].x }}]"],
  ["js_generation_tag", js, { x: "a" }, "{% generation %}{{ x }}{% endgeneration %}b"],
];
