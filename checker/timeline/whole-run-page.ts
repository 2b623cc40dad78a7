import type { WholeRunHead } from './whole-run.js';
import { scriptJson } from './whole-run.js';

/**
 * The whole-run view of timeline.html: a toolbar, an overview strip of the whole run, a lane of
 * fault bands (DOM elements, at least 4 px wide at any zoom), and a canvas of op bars drawn for
 * the visible window only (a density picture past 20k ops in view). Scroll zooms, drag pans; the
 * keyboard does both. Nothing is fetched: the data is in the page (see whole-run.ts).
 */

export const WHOLE_RUN_STYLE = `
.wr{position:relative;border:1px solid #e3e6ec;border-radius:6px;padding:8px;outline:none}
.wr:focus-visible{box-shadow:0 0 0 2px #7aa7e0}
.wr-bar{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-bottom:6px}
.wr-bar button{font:12px system-ui,sans-serif;padding:2px 9px;border:1px solid #c5cad3;border-radius:4px;background:#f6f7fa;cursor:pointer}
.wr-bar button:hover{background:#e8ebf1}.wr-bar button.anomaly{border-color:#c62828;color:#c62828;font-weight:600}
.wr-range{color:#444;font:12px ui-monospace,Menlo,Consolas,monospace;margin-left:6px}
.wr-ov{position:relative;height:34px;margin-left:var(--gutter);cursor:pointer}
.wr-ov canvas{position:absolute;left:0;top:0;width:100%;height:34px}
.wr-window{position:absolute;top:0;height:32px;border:1.5px solid #1d2330;background:rgba(29,35,48,.06);pointer-events:none;box-sizing:border-box;min-width:3px}
.wr-faults{position:relative;margin-left:var(--gutter);border-bottom:1px solid #e3e6ec}
.wr-fault{position:absolute;height:13px;border-radius:2px;opacity:.8;cursor:pointer;overflow:hidden;white-space:nowrap;font:10px system-ui,sans-serif;color:#111;padding-left:2px;box-sizing:border-box;min-width:4px}
.wr-fault:hover,.wr-fault.sel{outline:2px solid #111;opacity:1}
.wr-heal{position:absolute;top:0;bottom:0;border-left:2px dashed #333;cursor:pointer;font:10px system-ui,sans-serif;padding-left:3px;color:#333;width:30px}
.wr-lanename{position:absolute;right:calc(100% + 6px);font:11px system-ui,sans-serif;color:#444;white-space:nowrap}
.wr-main canvas{display:block;width:100%;cursor:grab}
.wr-main canvas.drag{cursor:grabbing}
.wr-detail{white-space:pre-wrap;font:12px ui-monospace,Menlo,Consolas,monospace;background:#f6f7fa;border:1px solid #e3e6ec;border-radius:6px;padding:6px 8px;margin-top:6px;min-height:1.5em}
`;

/** The section's markup, with its data. */
export function wholeRunSection(head: WholeRunHead): string {
  const anomaly =
    head.anomalies.length > 0
      ? '<button data-act="anomaly" class="anomaly" title="Zoom to where the checker got stuck, on the failing key">Show the anomaly</button>'
      : '';
  return (
    '<section id="wr" class="wr" tabindex="0" aria-label="timeline of the whole run">' +
    '<div class="wr-bar">' +
    '<button data-act="all" title="the whole run (0)">Whole run</button>' +
    '<button data-act="out" title="zoom out (-)">−</button>' +
    '<button data-act="in" title="zoom in (+)">+</button>' +
    '<button data-act="left" title="pan left (←)">◀</button>' +
    '<button data-act="right" title="pan right (→)">▶</button>' +
    '<button data-act="start" title="go to the start (Home)">⇤ start</button>' +
    '<button data-act="end" title="go to the end (End)">end ⇥</button>' +
    anomaly +
    '<label>key <select class="wr-key"><option value="-1">all keys</option></select></label>' +
    '<span class="wr-range">loading…</span></div>' +
    '<div class="wr-ov"><canvas class="wr-ovc"></canvas><div class="wr-window"></div></div>' +
    '<div class="wr-faults"></div>' +
    '<div class="wr-main"><canvas class="wr-canvas"></canvas></div>' +
    '<div class="wr-detail">Scroll to zoom, drag to pan; click an op or a fault band for its details.</div>' +
    `<script type="application/json" id="wr-data">${scriptJson(head)}</script>` +
    '</section>'
  );
}

// The page's script (plain ES2020, no imports). Text from the history only ever reaches the page
// through textContent, title and canvas fillText: never as markup.
export const WHOLE_RUN_SCRIPT = String.raw`
(function(){
var root=document.getElementById('wr');if(!root)return;
var H=JSON.parse(document.getElementById('wr-data').textContent);
var GUT=92,DENSE=20000,LANE=15;
root.style.setProperty('--gutter',GUT+'px');
var rangeEl=root.querySelector('.wr-range'),detail=root.querySelector('.wr-detail');
var cv=root.querySelector('.wr-canvas'),ov=root.querySelector('.wr-ovc'),win=root.querySelector('.wr-window');
var faultsEl=root.querySelector('.wr-faults'),keySel=root.querySelector('.wr-key');
var N=H.n,call=new Float64Array(N),dur=new Float64Array(N),row=new Uint32Array(N),fst=new Uint32Array(N),key=new Uint32Array(N),val=new Uint32Array(N);
var stuck=new Set(),maxDur=0,openOps=[];
H.anomalies.forEach(function(a){a.stuck.forEach(function(i){stuck.add(i)})});
var v0=0,v1=H.end,keyF=-1,sel=-1,selFault=null;
var kinds=[];H.faults.forEach(function(f){if(!f.heal&&kinds.indexOf(f.kind)<0)kinds.push(f.kind)});
var PALETTE=['#e53935','#8e24aa','#00897b','#f9a825','#3949ab','#6d4c41'];
function colour(f){return f.colour||PALETTE[kinds.indexOf(f.kind)%PALETTE.length]}
var LEADERS=['#3949ab','#00897b','#ef6c00','#6d4c41','#d81b60','#7cb342','#546e7a'];
var leaderNames=[];H.leaders.forEach(function(l){if(l.node!==null&&leaderNames.indexOf(l.node)<0)leaderNames.push(l.node)});leaderNames.sort();
function fmt(t){if(H.unit==='order')return String(Math.round(t));var a=Math.abs(t);if(a===0)return '0 s';
 if(a>=1e6)return (+(t/1e6).toFixed(a>=1e8?1:3))+' s';if(a>=1e3)return (+(t/1e3).toFixed(2))+' ms';return Math.round(t)+' µs'}
function tickText(t,step){if(H.unit==='order')return String(Math.round(t));var d=Math.max(0,Math.min(6,Math.ceil(-Math.log10(step/1e6)-1e-9)));return (t/1e6).toFixed(d)+' s'}
function decode(bytes){var p=0;function rd(){var x=0,m=1,b;do{b=bytes[p++];x+=(b&127)*m;m*=128}while(b>=128);return x}
 var t=0;for(var i=0;i<N;i++){t+=rd();call[i]=t;var d=rd();dur[i]=d===0?-1:d-1;row[i]=rd();fst[i]=rd();key[i]=rd();val[i]=rd();
  if(d===0)openOps.push(i);else if(d-1>maxDur)maxDur=d-1}}
function endOf(i){return dur[i]<0?H.end:call[i]+dur[i]}
function lower(t){var lo=0,hi=N;while(lo<hi){var m=(lo+hi)>>1;if(call[m]<t)lo=m+1;else hi=m}return lo}
function W(){return Math.max(200,root.clientWidth-16)}
function plotW(){return W()-GUT-8}
function X(t){return GUT+(t-v0)/(v1-v0)*plotW()}
function T(x){return v0+(x-GUT)/plotW()*(v1-v0)}
var nrows=H.procs.length,rowH=Math.max(3,Math.min(22,Math.floor(440/Math.max(1,nrows)))),band=H.leaders.length?16:0,AX=26;
function top(){return band+4}
function visible(i){return keyF<0||key[i]===keyF}
var STAT=['ok','info','fail','pending'];
var FILL=['#d6e6f8','#fdf0d9','#f1f1f1','#f3f3f3'],STROKE=['#3f78c0','#d48a12','#b5b5b5','#8a8f99'];
function ticks(a,b,n){var raw=(b-a)/n,mag=Math.pow(10,Math.floor(Math.log10(raw))),st=[1,2,5,10].map(function(m){return m*mag}).find(function(s){return s>=raw})||10*mag,out=[];
 for(var t=Math.ceil(a/st)*st;t<=b;t+=st)out.push(t);return out}
function draw(){
 var w=W(),dpr=window.devicePixelRatio||1,h=top()+nrows*rowH+AX;
 cv.width=Math.round(w*dpr);cv.height=Math.round(h*dpr);cv.style.height=h+'px';
 var c=cv.getContext('2d');c.setTransform(dpr,0,0,dpr,0,0);c.clearRect(0,0,w,h);c.font='10px system-ui,sans-serif';
 var y0=top();
 for(var r=0;r<nrows;r++){if(r%2===0){c.fillStyle='#f6f7fa';c.fillRect(GUT,y0+r*rowH,plotW(),rowH)}}
 if(rowH>=9){c.fillStyle='#444';c.textAlign='right';for(r=0;r<nrows;r++)c.fillText(H.procs[r],GUT-6,y0+r*rowH+rowH/2+3.5)}
 else{c.fillStyle='#444';c.textAlign='right';c.fillText(nrows+' processes',GUT-6,y0+12)}
 c.textAlign='left';
 c.save();c.beginPath();c.rect(GUT,0,plotW(),h);c.clip();
 if(band){H.leaders.forEach(function(l){if(l.end<v0||l.start>v1)return;var a=X(Math.max(l.start,v0)),b=X(Math.min(l.end,v1));
  c.fillStyle=l.node===null?'#bdbdbd':LEADERS[leaderNames.indexOf(l.node)%LEADERS.length];c.fillRect(a,1,Math.max(1,b-a),band-3);
  if(b-a>40){c.fillStyle='#fff';c.fillText(l.node===null?'no leader':l.node,a+3,band-5)}})}
 var lo=lower(v0-maxDur-1),hi=lower(v1+1e-9),count=0,first=-1,last=-1;
 for(var i=lo;i<hi;i++){if(endOf(i)>=v0){if(first<0)first=i;last=i;if(visible(i))count++}}
 openOps.forEach(function(i){if(i<lo){if(first<0||i<first)first=i;if(visible(i))count++}});
 var pw=plotW();
 if(count>DENSE){
  var cols=Math.max(1,Math.floor(pw)),grid=new Float32Array(cols*nrows),bad=new Float32Array(cols*nrows),mx=1;
  for(i=lo;i<hi;i++){if(!visible(i))continue;var e2=endOf(i);if(e2<v0)continue;var ca=Math.max(0,Math.floor(X(call[i])-GUT)),cb=Math.min(cols-1,Math.floor(X(Math.min(e2,v1))-GUT));
   for(var k=ca;k<=cb&&k<ca+4;k++){var g=row[i]*cols+k;grid[g]++;if((fst[i]&3)!==0)bad[g]++;if(grid[g]>mx)mx=grid[g]}}
  for(r=0;r<nrows;r++)for(k=0;k<cols;k++){var n=grid[r*cols+k];if(!n)continue;var s=.25+.75*Math.log(1+n)/Math.log(1+mx);
   c.fillStyle=bad[r*cols+k]>n/2?'rgba(212,138,18,'+s+')':'rgba(63,120,192,'+s+')';c.fillRect(GUT+k,y0+r*rowH+1,1,Math.max(1,rowH-2))}
 }else{
  var drawOp=function(i){if(!visible(i))return;var e=endOf(i);if(e<v0)return;var a=X(call[i]),b=dur[i]<0?GUT+pw+4:X(e),st=fst[i]&3;
   var yy=y0+row[i]*rowH+(rowH>6?2:0),hh=Math.max(2,rowH-(rowH>6?4:1)),ww=Math.max(1.5,b-a);
   c.fillStyle=ww>3?FILL[st]:STROKE[st];c.fillRect(a,yy,ww,hh);
   if(ww>3&&rowH>5){c.strokeStyle=stuck.has(i)?'#c62828':STROKE[st];c.lineWidth=stuck.has(i)?2.5:(i===sel?2.5:1);if(i===sel)c.strokeStyle='#111';c.strokeRect(a+.5,yy+.5,ww-1,hh-1)}
   else if(stuck.has(i)){c.fillStyle='#c62828';c.fillRect(a,yy,Math.max(3,ww),hh)}
   if(rowH>=12&&ww>36){var txt=H.fs[fst[i]>>2]+(key[i]?' '+H.keys[key[i]]:'')+(val[i]>1?' '+H.values[val[i]]:val[i]===0?' …':'');
    var fit=Math.floor((ww-6)/5.6);if(fit>=3){c.fillStyle=st===2?'#999':'#1d2330';c.fillText(txt.length>fit?txt.slice(0,fit-1)+'…':txt,a+3,yy+hh/2+3.5)}}};
  for(i=lo;i<hi;i++)drawOp(i);openOps.forEach(function(i){if(i<lo)drawOp(i)});
 }
 H.faults.forEach(function(f){if(f.heal)return;var e=f.end<0?H.end:f.end;if(e<v0||f.start>v1)return;var a=X(f.start),b=X(e);
  c.globalAlpha=.16;c.fillStyle=colour(f);c.fillRect(a,y0,Math.max(3,b-a),nrows*rowH);c.globalAlpha=1});
 H.faults.forEach(function(f){if(!f.heal||f.start<v0||f.start>v1)return;var a=X(f.start);c.strokeStyle='#333';c.setLineDash([4,3]);c.lineWidth=1.5;
  c.beginPath();c.moveTo(a,0);c.lineTo(a,y0+nrows*rowH);c.stroke();c.setLineDash([])});
 c.restore();
 var ay=y0+nrows*rowH;c.strokeStyle='#888';c.lineWidth=1;c.beginPath();c.moveTo(GUT,ay+.5);c.lineTo(GUT+pw,ay+.5);c.stroke();
 c.fillStyle='#666';c.textAlign='center';var tk=ticks(v0,v1,Math.max(2,Math.floor(pw/110))),step=tk.length>1?tk[1]-tk[0]:v1-v0;
 tk.forEach(function(t){var x=X(t);c.fillRect(x,ay,1,4);c.fillText(tickText(t,step),x,ay+15)});
 c.textAlign='left';
 drawFaults();drawOverview();
 root.dataset.first=String(first+1);root.dataset.last=String(last+1);root.dataset.from=String(v0);root.dataset.to=String(v1);
 rangeEl.textContent=fmt(v0)+' – '+fmt(v1)+' · '+(first<0?'no ops':'ops #'+(first+1)+'–#'+(last+1)+' of '+N)+(count>DENSE?' (density: '+count+' ops in view)':'')+(N<H.total?' · '+H.total+' in the history, thinned to '+N:'');
}
function drawFaults(){
 faultsEl.textContent='';faultsEl.style.width=plotW()+'px';root.querySelector('.wr-ov').style.width=plotW()+'px';var lanes=kinds.length,h=Math.max(1,lanes)*LANE+4,heals=H.faults.some(function(f){return f.heal});
 faultsEl.style.height=(h+(heals?14:0))+'px';
 kinds.forEach(function(k,li){var n=document.createElement('div');n.className='wr-lanename';n.style.top=(li*LANE+2)+'px';n.textContent=k;faultsEl.appendChild(n)});
 var pw=plotW();
 H.faults.forEach(function(f,fi){var e=f.end<0?H.end:f.end;if(e<v0||f.start>v1)return;
  var a=Math.max(0,X(f.start)-GUT),b=Math.min(pw,X(e)-GUT);
  var d=document.createElement('div');d.dataset.fault=String(fi);
  if(f.heal){d.className='wr-heal';d.style.left=a+'px';d.textContent='heal';d.title='heal: every fault healed at '+fmt(f.start)}
  else{d.className='wr-fault';var w=Math.max(4,b-a);if(a+w>pw)a=Math.max(0,pw-w);d.style.left=a+'px';d.style.width=w+'px';d.style.top=(kinds.indexOf(f.kind)*LANE+2)+'px';
   d.style.background=colour(f);d.textContent=w>40?f.label:'';d.title=f.label+' '+fmt(f.start)+(f.interval?' – '+(f.end<0?'never healed':fmt(f.end)):'')+(f.detail?'\n'+f.detail:'')}
  if(selFault===fi)d.classList.add('sel');faultsEl.appendChild(d)});
}
var ovCounts=null;
function drawOverview(){
 var pw=plotW(),dpr=window.devicePixelRatio||1;ov.width=Math.round(pw*dpr);ov.height=Math.round(34*dpr);
 var c=ov.getContext('2d');c.setTransform(dpr,0,0,dpr,0,0);c.clearRect(0,0,pw,34);c.fillStyle='#f6f7fa';c.fillRect(0,0,pw,34);
 var cols=Math.max(1,Math.floor(pw));
 if(!ovCounts||ovCounts.length!==cols){ovCounts=new Float32Array(cols);for(var i=0;i<N;i++){var k=Math.min(cols-1,Math.floor(call[i]/H.end*cols));ovCounts[k]++}}
 var mx=1;for(var k=0;k<cols;k++)if(ovCounts[k]>mx)mx=ovCounts[k];
 c.fillStyle='#9fb8d9';for(k=0;k<cols;k++){var hh=ovCounts[k]/mx*20;c.fillRect(k,30-hh,1,hh)}
 H.faults.forEach(function(f){var a=f.start/H.end*pw,e=(f.end<0?H.end:f.end)/H.end*pw;
  if(f.heal){c.fillStyle='#333';c.fillRect(a,0,1.5,34);return}c.fillStyle=colour(f);c.fillRect(a,1,Math.max(2,e-a),6)});
 win.style.left=(v0/H.end*pw)+'px';win.style.width=Math.max(3,(v1-v0)/H.end*pw)+'px';
}
var MIN=H.unit==='order'?4:20;
function setView(a,b){var span=Math.max(MIN,Math.min(b-a,H.end));if(a<0){a=0}if(a+span>H.end)a=H.end-span;if(a<0)a=0;v0=a;v1=a+span;draw()}
function zoom(f,at){var t=at===undefined?(v0+v1)/2:at,s=(v1-v0)*f;setView(t-(t-v0)*f,t-(t-v0)*f+s)}
function pan(f){var s=v1-v0;setView(v0+s*f,v1+s*f)}
function act(a){if(a==='in')zoom(1/2);else if(a==='out')zoom(2);else if(a==='all')setView(0,H.end);else if(a==='left')pan(-.5);else if(a==='right')pan(.5);
 else if(a==='start')setView(0,v1-v0);else if(a==='end')setView(H.end-(v1-v0),H.end);else if(a==='anomaly')showAnomaly(0)}
function showAnomaly(n){var an=H.anomalies[n];if(!an)return;var ki=an.key===''?-1:H.keys.indexOf(an.key);keyF=ki;keySel.value=String(ki);
 var span=Math.max(an.to-an.from,MIN),pad=Math.max(span*0.15,MIN*5);setView(an.from-pad,an.to+pad)}
root.querySelector('.wr-bar').addEventListener('click',function(e){var b=e.target.closest('button');if(b)act(b.dataset.act)});
root.addEventListener('keydown',function(e){var m={'+':'in','=':'in','-':'out','0':'all','ArrowLeft':'left','ArrowRight':'right','Home':'start','End':'end'}[e.key];
 if(m&&e.target.tagName!=='SELECT'){e.preventDefault();act(m)}});
cv.addEventListener('wheel',function(e){e.preventDefault();var r=cv.getBoundingClientRect();zoom(e.deltaY>0?1.25:0.8,T(e.clientX-r.left))},{passive:false});
var drag=null;
cv.addEventListener('pointerdown',function(e){drag={x:e.clientX,a:v0,b:v1,moved:false};cv.setPointerCapture(e.pointerId)});
cv.addEventListener('pointermove',function(e){if(!drag)return;var dx=e.clientX-drag.x;if(Math.abs(dx)>3)drag.moved=true;if(!drag.moved)return;cv.classList.add('drag');
 var dt=dx/plotW()*(drag.b-drag.a);setView(drag.a-dt,drag.b-dt)});
cv.addEventListener('pointerup',function(e){var d=drag;drag=null;cv.classList.remove('drag');if(d&&!d.moved)pick(e)});
function procAt(r,t){var l=H.rowProcs[r]||[],name='?';for(var k=0;k<l.length;k++)if(l[k][0]<=t)name=l[k][1];return name}
function pick(e){var r=cv.getBoundingClientRect(),x=e.clientX-r.left,y=e.clientY-r.top,rw=Math.floor((y-top())/rowH);if(rw<0||rw>=nrows)return;
 var t=T(x),tol=(v1-v0)/plotW()*3,best=-1,lo=lower(t-maxDur-tol-1),hi=lower(t+tol+1e-9);
 for(var i=lo;i<hi;i++)if(row[i]===rw&&visible(i)&&endOf(i)>=t-tol)best=i;
 if(best<0)openOps.forEach(function(i){if(row[i]===rw&&visible(i)&&call[i]<=t)best=i});
 sel=best;if(best<0){detail.textContent='Nothing here.';draw();return}
 var st=STAT[fst[best]&3];detail.textContent='op #'+(best+1)+' of '+N+': '+H.fs[fst[best]>>2]+(key[best]?' '+H.keys[key[best]]:'')+(val[best]>1?' '+H.values[val[best]]:'')+
 '\nprocess '+procAt(row[best],call[best])+', '+st+', invoked '+fmt(call[best])+(dur[best]<0?', never completed (runs to the end)':(st==='info'?', outcome unknown, timed out or failed indefinitely at ':', returned ')+fmt(call[best]+dur[best])+' (took '+fmt(dur[best])+')')+
 (stuck.has(best)?'\ncould not be placed by the checker (the anomaly)':'');draw();moment(call[best],H.fs[fst[best]>>2])}
function moment(t,label){var ns=H.unit==='us'?t*1000:t;window.dispatchEvent(new CustomEvent('faultline:moment',{detail:{time:ns,label:label}}));
 if(window.parent!==window)window.parent.postMessage({faultlineMoment:ns,label:label},'*')}
faultsEl.addEventListener('click',function(e){var d=e.target.closest('[data-fault]');if(!d)return;var fi=+d.dataset.fault,f=H.faults[fi];selFault=fi;
 detail.textContent=(f.heal?'heal: every fault healed':f.label+(f.interval?' ('+f.kind+')':''))+' at '+fmt(f.start)+(f.interval&&!f.heal?' until '+(f.end<0?'the end (never healed)':fmt(f.end)):'')+(f.detail?'\n'+f.detail:'');
 drawFaults();moment(f.start,f.label)});
root.querySelector('.wr-ov').addEventListener('click',function(e){var r=ov.getBoundingClientRect(),t=(e.clientX-r.left)/r.width*H.end,s=v1-v0;setView(t-s/2,t+s/2)});
keySel.addEventListener('change',function(){keyF=+keySel.value;draw()});
var order=H.keys.map(function(k,i){return i}).filter(function(i){return i>0});
var bad=H.anomalies.map(function(a){return H.keys.indexOf(a.key)});
order.sort(function(a,b){return (bad.indexOf(b)>=0)-(bad.indexOf(a)>=0)||(H.keys[a]<H.keys[b]?-1:1)});
order.slice(0,500).forEach(function(i){var o=document.createElement('option');o.value=String(i);o.textContent=H.keys[i]+(bad.indexOf(i)>=0?' (not linearizable)':'');keySel.appendChild(o)});
window.addEventListener('resize',function(){ovCounts=null;draw()});
function b64(s){var bin=atob(s),a=new Uint8Array(bin.length);for(var i=0;i<bin.length;i++)a[i]=bin.charCodeAt(i);return a}
new Response(new Blob([b64(H.data)]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer().then(function(buf){
 decode(new Uint8Array(buf));draw();root.dataset.ready='1'}).catch(function(err){rangeEl.textContent='could not read the embedded data: '+err})
})();
`;
