// Conversations rendered through every model's chat template. Written for these tests; the
// content mixes ASCII, Unicode, JSON-significant characters and whitespace at the edges.
"use strict";

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city, with \"quotes\" and a backslash \\ in it",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name, e.g. Zürich or 東京" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        days: { type: "integer", minimum: 1, maximum: 7 },
      },
      required: ["city"],
    },
  },
};

const searchTool = {
  type: "function",
  function: {
    name: "search",
    description: "Search the web",
    parameters: { type: "object", properties: { query: { type: "string" } }, required: [] },
  },
};

module.exports = {
  tools: [weatherTool, searchTool],
  conversations: {
    single_user: [{ role: "user", content: "Hello!" }],
    system_and_user: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "What is the capital of France?" },
    ],
    multi_turn: [
      { role: "system", content: "  Answer briefly.\n" },
      { role: "user", content: "Hi there " },
      { role: "assistant", content: "Hello! How can I help?" },
      { role: "user", content: "Tell me a joke about 🐍 and C++." },
      { role: "assistant", content: "Why did the snake learn C++? For the <templates>." },
      { role: "user", content: "Another one,\nplease.\t" },
    ],
    no_system_multi_turn: [
      { role: "user", content: "1 + 1 = ?" },
      { role: "assistant", content: "2" },
      { role: "user", content: "And 2 + 2?" },
    ],
    unicode: [
      { role: "system", content: "Réponds en français. 日本語もOK. مرحبا" },
      { role: "user", content: "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich 👨‍👩‍👧" },
    ],
    special_chars: [
      { role: "user", content: "Quote \" backslash \\ braces {{ not jinja }} {% raw %} and <tags>" },
    ],
    empty_content: [
      { role: "user", content: "" },
      { role: "assistant", content: "" },
      { role: "user", content: "   " },
    ],
    content_parts: [
      { role: "system", content: [{ type: "text", text: "Be terse." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "Describe this picture." },
          { type: "image" },
          { type: "text", text: "  And this one. " },
        ],
      },
    ],
    bad_alternation: [
      { role: "user", content: "one" },
      { role: "user", content: "two" },
    ],
    starts_with_assistant: [
      { role: "assistant", content: "I speak first." },
      { role: "user", content: "ok" },
    ],
    qwen_thinking: [
      { role: "user", content: "Is 17 prime?" },
      { role: "assistant", content: "<think>\nCheck divisors up to 4.\n</think>\n\nYes, 17 is prime." },
      { role: "user", content: "And 21?" },
    ],
    qwen_reasoning_field: [
      { role: "user", content: "Is 9 a square?" },
      { role: "assistant", content: "Yes.", reasoning_content: "3 * 3 = 9" },
      { role: "user", content: "And 10?" },
      { role: "assistant", content: "No." },
    ],
    qwen_tool_round_trip: [
      { role: "system", content: "You can call tools." },
      { role: "user", content: "Weather in Zürich and Tokyo?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          { type: "function", function: { name: "get_weather", arguments: { city: "Zürich", unit: "celsius" } } },
          { type: "function", function: { name: "get_weather", arguments: "{\"city\": \"東京\"}" } },
        ],
      },
      { role: "tool", content: "{\"temp\": 21, \"sky\": \"clear\"}" },
      { role: "tool", content: "{\"temp\": 25}" },
      { role: "assistant", content: "Zürich 21°C, Tokyo 25°C." },
      { role: "user", content: "Thanks!" },
    ],
    qwen_tool_pending: [
      { role: "user", content: "Search for jinja" },
      {
        role: "assistant",
        content: "Let me search.",
        tool_calls: [{ type: "function", function: { name: "search", arguments: { query: "jinja \"templates\"" } } }],
      },
      { role: "tool", content: "<tool_response>results</tool_response>" },
    ],
    deepseek_tools: [
      { role: "system", content: "First system." },
      { role: "system", content: "Second system." },
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { type: "function", function: { name: "get_weather", arguments: "{\"city\": \"Paris\"}" } },
          { type: "function", function: { name: "search", arguments: "{\"query\": \"Paris\"}" } },
        ],
      },
      { role: "tool", content: "sunny" },
      { role: "tool", content: "found" },
      { role: "assistant", content: "It is sunny in Paris." },
      { role: "user", content: "Great" },
    ],
  },
};
