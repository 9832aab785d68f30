// "Copy as code": the request as a curl command, a Python script in the
// style of the hosted API's documentation, and a Go program using the Go
// SDK (stillmotion/client). The copied text is exact; the displayed one may
// shorten long data: URIs.

import type { Scalar } from './api';
import type { Request } from './params';

export type Lang = 'curl' | 'python' | 'go';

export const LANGS: { id: Lang; label: string }[] = [
  { id: 'curl', label: 'curl' },
  { id: 'python', label: 'Python' },
  { id: 'go', label: 'Go' },
];

const KEEP = 72;

/** Shortens a long data: URI for display. */
export function abbreviate(s: string): string {
  if (s.length <= 160 || !s.startsWith('data:')) return s;
  return `${s.slice(0, KEEP)}…[${(s.length - KEEP).toLocaleString('en-US')} more characters in the copied text]`;
}

function jsonString(s: string, short: boolean): string {
  return JSON.stringify(short ? abbreviate(s) : s);
}

export function snippet(lang: Lang, req: Request, origin: string, short = false): string {
  switch (lang) {
    case 'curl':
      return curl(req, origin, short);
    case 'python':
      return python(req, origin, short);
    case 'go':
      return goProgram(req, origin, short);
  }
}

function jsonBody(req: Request, short: boolean, indent: string): string {
  const lines = Object.entries(req).map(([k, v]) => `${indent}${JSON.stringify(k)}: ${typeof v === 'string' ? jsonString(v, short) : JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function curl(req: Request, origin: string, short: boolean): string {
  return [
    '# Set STILLMOTION_API_KEY to your key first: export STILLMOTION_API_KEY=...',
    `curl -sS ${shellQuote(`${origin}/v2/video/generations`)} \\`,
    '  -H "Authorization: Bearer $STILLMOTION_API_KEY" \\',
    "  -H 'Content-Type: application/json' \\",
    "  --data-binary @- <<'JSON'",
    jsonBody(req, short, '  '),
    'JSON',
    '# It answers {"id": ..., "status": "queued", ...}; poll it with',
    `# curl -sS ${shellQuote(`${origin}/v2/video/generations?generation_id=ID`)} -H "Authorization: Bearer $STILLMOTION_API_KEY"`,
    '',
  ].join('\n');
}

function pyValue(v: Scalar, short: boolean): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  return jsonString(v, short);
}

function python(req: Request, origin: string, short: boolean): string {
  const data = Object.entries(req)
    .map(([k, v]) => `        ${JSON.stringify(k)}: ${pyValue(v, short)}`)
    .join(',\n');
  return `import os
import time

import requests

# Set STILLMOTION_API_KEY to your key: export STILLMOTION_API_KEY=...
api_key = os.environ["STILLMOTION_API_KEY"]
base_url = ${JSON.stringify(`${origin}/v2`)}


# Creating and sending a video generation task to the server
def generate_video():
    url = f"{base_url}/video/generations"
    headers = {
        "Authorization": f"Bearer {api_key}",
    }

    data = {
${data}
    }

    response = requests.post(url, json=data, headers=headers)
    if response.status_code >= 400:
        print(f"Error: {response.status_code} - {response.text}")
    else:
        response_data = response.json()
        print(response_data)
        return response_data


# Requesting the result of the task from the server using the generation_id
def get_video(gen_id):
    url = f"{base_url}/video/generations"
    params = {
        "generation_id": gen_id,
    }
    headers = {
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json",
    }
    response = requests.get(url, params=params, headers=headers)
    return response.json()


def main():
    # Running video generation and getting a task id
    gen_response = generate_video()
    if not gen_response:
        return None
    gen_id = gen_response.get("id")
    print("Generation ID: ", gen_id)

    # Trying to retrieve the video from the server every 10 sec
    if gen_id:
        start_time = time.time()
        timeout = 600
        while time.time() - start_time < timeout:
            response_data = get_video(gen_id)
            if response_data is None:
                print("Error: No response from API")
                break

            status = response_data.get("status")
            print("Status:", status)

            if status == "queued" or status == "generating":
                print("Still waiting... Checking again in 10 seconds.")
                time.sleep(10)
            else:
                print("Processing complete:\\n", response_data)
                return response_data

        print("Timeout reached. Stopping.")
    return None


if __name__ == "__main__":
    main()
`;
}

// The Go SDK's CreateRequest fields, by wire name.
const GO_FIELDS: Record<string, { field: string; kind: 'string' | 'int' | 'int64ptr' | 'boolptr' | 'bool' }> = {
  model: { field: 'Model', kind: 'string' },
  prompt: { field: 'Prompt', kind: 'string' },
  image_url: { field: 'ImageURL', kind: 'string' },
  tail_image_url: { field: 'TailImageURL', kind: 'string' },
  video_url: { field: 'VideoURL', kind: 'string' },
  audio_url: { field: 'AudioURL', kind: 'string' },
  aspect_ratio: { field: 'AspectRatio', kind: 'string' },
  resolution: { field: 'Resolution', kind: 'string' },
  duration: { field: 'Duration', kind: 'int' },
  negative_prompt: { field: 'NegativePrompt', kind: 'string' },
  style: { field: 'Style', kind: 'string' },
  seed: { field: 'Seed', kind: 'int64ptr' },
  lip_sync_tts_content: { field: 'Speech', kind: 'string' },
  lip_sync_tts_speaker: { field: 'Speaker', kind: 'string' },
  generate_audio_switch: { field: 'GenerateAudio', kind: 'boolptr' },
  generate_multi_clip_switch: { field: 'MultiClip', kind: 'bool' },
  thinking_type: { field: 'ThinkingType', kind: 'string' },
  callback_url: { field: 'CallbackURL', kind: 'string' },
};

function goString(s: string, short: boolean): string {
  // JSON's escapes are Go's, but for the lone surrogates JSON writes as \\uD800.
  return jsonString(s, short).replace(/\\u(d[89a-f][0-9a-f]{2})/gi, '\\uFFFD');
}

function goProgram(req: Request, origin: string, short: boolean): string {
  const vars: string[] = [];
  const fields: [string, string][] = [];
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(req)) {
    const f = GO_FIELDS[k];
    if (!f) {
      unknown.push(`\t\t// ${k}: ${JSON.stringify(v)} has no CreateRequest field; send it with curl or Python`);
      continue;
    }
    switch (f.kind) {
      case 'string':
        fields.push([f.field, goString(String(v), short)]);
        break;
      case 'int':
        fields.push([f.field, String(v)]);
        break;
      case 'bool':
        if (v === true) fields.push([f.field, 'true']);
        break;
      case 'int64ptr':
        vars.push(`\t${k === 'seed' ? 'seed' : k} := int64(${v})`);
        fields.push([f.field, `&${k === 'seed' ? 'seed' : k}`]);
        break;
      case 'boolptr': {
        const name = k === 'generate_audio_switch' ? 'sound' : k;
        vars.push(`\t${name} := ${v === true}`);
        fields.push([f.field, `&${name}`]);
        break;
      }
    }
  }
  const width = Math.max(...fields.map(([f]) => f.length)) + 1;
  const body = fields.map(([f, v]) => `\t\t${`${f}:`.padEnd(width + 1)}${v},`).concat(unknown);
  return `// A program using the Go SDK, the package stillmotion/client: build it
// inside the stillmotion module (go run ./cmd/example, say), with
// STILLMOTION_API_KEY set to your key.
package main

import (
\t"context"
\t"fmt"
\t"log"
\t"os"

\t"stillmotion/client"
)

func main() {
\tctx := context.Background()
\tc := client.New(${JSON.stringify(origin)}, os.Getenv("STILLMOTION_API_KEY"))
${vars.length ? `\n${vars.join('\n')}\n` : ''}
\tg, err := c.Create(ctx, &client.CreateRequest{
${body.join('\n')}
\t})
\tif err != nil {
\t\tlog.Fatal(err)
\t}
\tfmt.Println("Generation ID:", g.ID)

\tg, err = c.Wait(ctx, g.ID, client.OnProgress(func(g *client.Generation) {
\t\tfmt.Printf("%s %.0f%%\\n", g.Status, 100*g.Progress)
\t}))
\tif err != nil {
\t\tlog.Fatal(err) // a *client.GenerationError says why it failed
\t}
\tfmt.Println("Plan:", g.Plan)

\tf, err := os.Create("output.mp4")
\tif err != nil {
\t\tlog.Fatal(err)
\t}
\tdefer f.Close()
\tif _, err := c.Download(ctx, g.Video.URL, f, nil); err != nil {
\t\tlog.Fatal(err)
\t}
\tfmt.Println("Saved output.mp4")
}
`;
}
