import json,sys,os,re,glob,gzip,html as H
sys.path.insert(0,'/work/shared/eval'); import score_extraction as se
def tk(s): return ' '.join(se.tokens(s))
def parse(line):
    m=re.match(r'boiler (\S+) LineFeatures \{ (.*) \} "(.*)" \[.*\]$',line.rstrip('\n'))
    if not m: return None
    f={}
    for kv in m.group(2).split(', '):
        k,v=kv.split(': '); f[k]= (v=='true') if v in('true','false') else int(v)
    return float(m.group(1)),f,m.group(3)
def strip_html(s):
    s=re.sub(r'(?is)<(script|style).*?</\1>',' ',s); s=re.sub(r'<[^>]+>',' ',s); return H.unescape(s)
out=[]
# trafeval
for p in glob.glob('/tmp/p3/d-tr/*.txt'):
    cid=os.path.basename(p)[:-4]; t=json.load(open(f'/work/shared/corpus/trafilatura-eval/{cid}/truth.json'))
    W=[tk(s) for s in t.get('without') or [] if tk(s)]; G=[tk(s) for s in t.get('with') or [] if tk(s)]
    for l in open(p):
        r=parse(l); 
        if not r: continue
        x=tk(r[2]); lab=None
        if any(w in x for w in W): lab=1
        if any(g in x for g in G): lab=0
        out.append(dict(set='tr',id=cid,score=r[0],f=r[1],text=r[2][:200],lab=lab))
for setn,d,truthf in (('rd','/tmp/p3/d-rd',lambda i:gzip.open(f'/work/shared/corpus/readability/{i}/expected.html.gz','rt',errors='replace').read()),
                      ('wc','/tmp/p3/d-wc',lambda i:json.load(open(f'/work/shared/corpus/wcxb-dev/ground-truth/{i}.json'))['ground_truth']['main_content'])):
    for p in glob.glob(d+'/*.txt'):
        cid=os.path.basename(p)[:-4]
        try: tr=truthf(cid)
        except Exception as e: continue
        if setn=='rd': tr=strip_html(tr)
        T=' '+tk(tr)+' '
        for l in open(p):
            r=parse(l)
            if not r: continue
            x=tk(r[2]); 
            if not x: continue
            lab=0 if (' '+x+' ') in T else 1
            out.append(dict(set=setn,id=cid,score=r[0],f=r[1],text=r[2][:200],lab=lab,chars=len(x)))
json.dump(out,open('/tmp/p3/lab.json','w'))
import collections
c=collections.Counter((o['set'],o['lab'],o['score']>0) for o in out)
for k in sorted(c,key=str): print(k,c[k])
