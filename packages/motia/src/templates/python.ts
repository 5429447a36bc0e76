/**
 * The Python project `motia create --python <dir>` writes: an API step that emits and an
 * event step that keeps state, `requirements.txt` naming the `iii` and `motia` wheels in
 * `vendor/`, and a README whose commands run as written. The engine comes from npm
 * (`@iii-dev/engine`, in package.json). Everything Python-specific of `motia create` is here,
 * so this template can be replaced as a whole.
 */

/** The wheels `requirements.txt` installs, by package: `{iii: 'iii-0.1.0-py3-none-any.whl', ...}`. */
export type Wheels = Record<'iii' | 'motia', string>

/** The files of a Python project, by path. */
export function pythonFiles(wheels: Wheels): Record<string, string> {
  return {
    '.gitignore': 'node_modules\n.motia\n.venv\n__pycache__\n',
    'requirements.txt': `# The iii SDK and Python Motia, from the wheels this project was created with.
./vendor/${wheels.iii}
./vendor/${wheels.motia}
`,
    'steps/hello_step.py': `"""POST /hello: greets someone and emits "greeted"."""

from typing import Any

from motia import ApiRequest, ApiResponse, ApiTrigger, FlowContext, StepConfig, step_wrapper

config = StepConfig(
    name="Hello",
    description='Greets someone and emits "greeted"',
    triggers=[ApiTrigger(path="/hello", method="POST")],
    emits=["greeted"],
    flows=["greetings"],
)


async def handler(req: ApiRequest, ctx: FlowContext) -> ApiResponse:
    name: Any = (req.body or {}).get("name") if isinstance(req.body, dict) else None
    if not isinstance(name, str) or name == "":
        return ApiResponse(status=400, body={"error": "validation_failed", "message": "name must be a non-empty string"})
    ctx.logger.info(f"hello {name}")
    await ctx.emit("greeted", {"name": name})
    return ApiResponse(status=200, body={"message": f"Hello, {name}!", "traceId": ctx.trace_id})


step_wrapper(config, __file__, handler)
`,
    'steps/record_greeting_step.py': `"""Counts greetings in state; GET /greetings/:name answers the count."""

from typing import Any

from motia import ApiRequest, ApiResponse, ApiTrigger, EventTrigger, FlowContext, StepConfig, step_wrapper

config = StepConfig(
    name="RecordGreeting",
    triggers=[EventTrigger(topic="greeted"), ApiTrigger(path="/greetings/:name", method="GET")],
    flows=["greetings"],
)


async def handler(input: Any, ctx: FlowContext) -> ApiResponse | None:
    if isinstance(input, ApiRequest):
        name = input.path_params["name"]
        return ApiResponse(status=200, body={"name": name, "count": await ctx.state.get("greetings", name) or 0})
    count = (await ctx.state.get("greetings", input["name"]) or 0) + 1
    await ctx.state.set("greetings", input["name"], count)
    ctx.logger.info(f"{input['name']} was greeted {count} time(s)")
    return None


step_wrapper(config, __file__, handler)
`,
  }
}

/** The project's README: the commands to install, run and call it. */
export function pythonReadme(name: string): string {
  return `# ${name}

Python Motia steps on the iii engine.

\`\`\`sh
npm install                                          # the engine (motia create already ran both installs unless --skip-install)
python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
\`\`\`

Start the engine, then the steps (two terminals):

\`\`\`sh
npx iii --data-dir .motia/data                       # the engine: bridge ws://127.0.0.1:49134, HTTP :3111
.venv/bin/python -m motia run steps                  # serves every *_step.py under steps/
\`\`\`

Then:

\`\`\`sh
curl -s -X POST localhost:3111/hello -H 'content-type: application/json' -d '{"name":"Ada"}'
curl -s localhost:3111/greetings/Ada
\`\`\`

\`vendor/\` holds the iii and Motia packages (npm tarballs and Python wheels) this project was
created with; \`package.json\` and \`requirements.txt\` refer to them by relative paths, so the
folder installs anywhere (commit \`vendor/\` with it).
`
}
