import json, sys, time, urllib.request, os
PORT=os.environ.get("PORT","18431")
schema = open(sys.argv[1]).read()
page = open(os.path.join(os.path.dirname(__file__), '../../../crates/llm/tests/fixtures/product.md')).read()
maxtok = int(sys.argv[2])
system = "You extract information from a web page. Reply with one JSON value that matches the JSON schema, using only facts from the page. Use null or an empty list when the page does not say."
prompt = "Split the page content into semantically coherent blocks. For each block give its index (from 0), a few topic tags, and its content."
user = f"{prompt}\n\nJSON schema: {schema}\n\nWeb page content:\n<page>\n{page}\n</page>"
body = {"model":"x","messages":[{"role":"system","content":system},{"role":"user","content":user}],
 "max_tokens":maxtok, **({"frequency_penalty":float(os.environ["FP"])} if os.environ.get("FP") else {}),"temperature":0.0,
 "response_format":{"type":"json_schema","json_schema":{"name":"blocks","schema":json.loads(schema),"strict":True}}}
t=time.time()
r = urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:"+PORT+"/v1/chat/completions", json.dumps(body).encode(), {"Content-Type":"application/json"}), timeout=600)
d = json.load(r)
print(time.time()-t, d["usage"], d["choices"][0]["finish_reason"])
print(d["choices"][0]["message"]["content"][:3000])
