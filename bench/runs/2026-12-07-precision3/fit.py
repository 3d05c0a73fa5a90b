import json,math,random,collections,sys
rows=json.load(open('/tmp/p3/lab.json'))
def feats(f):
    tail=f['after']<150; lead=f['before']==0 and not tail
    ld=f['link']/max(f['len'],1)
    x=[1.0, tail, lead, f['emphasis'], f['link']>0, ld>0.5, min(f['asks'],3), min(f['you'],2), min(f['we'],2), f['address'],
       f['len']<150, f['len']>300, f['exclaims'], f['boxed'], f['sentences']>3, f['sentences']==1,
       tail*min(f['asks'],3), tail*(f['you']>0 or f['we']>0), tail*f['emphasis'], tail*f['boxed'],
       (f['you']>0 or f['we']>0)*min(f['asks'],2), f['emphasis']*(f['asks']>0), f['siblings']>0.5*f['total']]
    return [float(v) for v in x]
names=['bias','tail','lead','emph','link','ld>.5','asks','you','we','addr','short','long','excl','boxed','sent>3','sent1','tail*asks','tail*voice','tail*emph','tail*boxed','voice*asks','emph*asks','sib>.5']
tr=[(feats(r['f']),r['lab']) for r in rows if r['set']=='tr' and r['lab'] is not None]
# weighted logistic regression: positives weight 1, negatives weight 2 (a lost 'with' costs ~2 leaks)
w=[0.0]*len(names); lr=1.0; l2=0.003
for ep in range(1500):
    g=[0.0]*len(w)
    for x,y in tr:
        z=sum(a*b for a,b in zip(w,x)); p=1/(1+math.exp(-z)); cw=1.0 if y==1 else 2.0
        for i,xi in enumerate(x): g[i]+=cw*(p-y)*xi
    for i in range(len(w)): w[i]-=lr*(g[i]/len(tr)+l2*w[i]*(i>0))
print(' '.join(f'{n}={v:.2f}' for n,v in zip(names,w)))
json.dump(dict(zip(names,w)),open('/tmp/p3/w.json','w'))
def z(r): return sum(a*b for a,b in zip(w,feats(r['f'])))
for th in [-0.5,-0.25,0.0,0.25,0.5,0.75]:
    c=collections.Counter()
    for r in rows:
        if r['lab'] is None: 
            if z(r)>th: c[(r['set'],'unk')]+=1
            continue
        if z(r)>th: c[(r['set'],r['lab'])]+=1; c[(r['set'],r['lab'],'ch')]+=r.get('chars',0)
    print(th, ' '.join(f"{s}: bad {c[(s,1)]} good {c[(s,0)]}" for s in ('tr','rd','wc')), 'tr unk',c[('tr','unk')], 'wc chars bad/good',c[('wc',1,'ch')],c[('wc',0,'ch')],'rd chars',c[('rd',1,'ch')],c[('rd',0,'ch')])
