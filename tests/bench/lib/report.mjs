// Turns the runs of run.mjs into Markdown tables (medians over repetitions, Manifold/Janus
// ratios) and PNG plots (gnuplot, Debian gnuplot-nox) of CPU and delay against N.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { median, fmt } from './stats.mjs';

/** Figures of one cell (scenario variant x server), each the median over its good runs. */
function cell(runs) {
  const ok = runs.filter((r) => !r.error);
  const m = (f) => median(ok.map((r) => { try { return f(r); } catch { return null; } }));
  return {
    runs: ok.length, failed: runs.length - ok.length,
    cpu: m((r) => r.cpu * 100), cpuMax: m((r) => r.cpuPerSecondMax * 100), usPerPacket: m((r) => r.cpuUsPerPacket),
    cpuPerStream: m((r) => r.cpuPerStream * 100), outPps: m((r) => r.outPps), inPps: m((r) => r.inPps),
    rssMb: m((r) => r.rssKb / 1024), rssPerParticipantMb: m((r) => r.rssPerParticipantKb / 1024),
    rssPerStreamMb: m((r) => (r.rssKb - r.idle.rssKb) / 1024 / r.expectedStreams),
    threads: m((r) => r.threads), threadsPerParticipant: m((r) => r.threadsPerParticipant),
    delayP50: m((r) => r.delay.allP50), delayP95: m((r) => r.delay.allP95),
    videoDelayP50: m((r) => r.delay.videoP50), videoDelayP95: m((r) => r.delay.videoP95),
    audioDelayP50: m((r) => r.delay.audioP50), audioDelayP95: m((r) => r.delay.audioP95),
    joinP50: m((r) => r.join.firstP50), joinP95: m((r) => r.join.firstP95), joinMax: m((r) => r.join.firstMax),
    joinAllP50: m((r) => r.join.allP50), joinAllMax: m((r) => r.join.allMax),
    fps: m((r) => r.subs.fpsMedian), fpsMin: m((r) => r.subs.fpsMin), videoKbps: m((r) => r.subs.videoKbpsMedian),
    audioKbps: m((r) => r.subs.audioKbpsMedian), lossPct: m((r) => r.subs.lossMean * 100), lossMaxPct: m((r) => r.subs.lossMax * 100),
    stalled: m((r) => r.subs.stalled), streams: m((r) => r.matchedStreams), expectedStreams: m((r) => r.expectedStreams),
    pubKbps: m((r) => r.pubs.videoKbps), pubPps: m((r) => r.pubs.videoPps),
    loadCpu: m((r) => r.loadCpu * 100), setupS: m((r) => r.setupS),
    inMissingPct: m((r) => r.inMissing * 100), outMissingPct: m((r) => r.outMissing * 100),
    pubFps: m((r) => r.pubs.videoFps), pubAudioPps: m((r) => r.pubs.audioPps),
    loadLimited: ok.filter((r) => r.loadLimited).length,
    rxPps: m((r) => r.rxPps), loadUsPerRxPacket: m((r) => r.loadUsPerRxPacket),
    serverCpuBusy: m((r) => r.serverCpuBusy * 100), loadCpuBusy: m((r) => r.loadCpuBusy * 100),
    receivers: ok[0]?.receivers ?? null,
    joinMeasures: [...new Set(ok.flatMap((r) => r.join?.measures ?? []))],
    firstPacketP50: m((r) => r.join.firstPacketP50), keyframes: m((r) => r.subs.keyframes), plis: m((r) => r.subs.plis),
  };
}

const ratio = (a, b) => (a === null || b === null || !b ? null : a / b);

export function summarize(runs, scenarios, servers) {
  const out = [];
  for (const s of scenarios) {
    for (const v of s.variants) {
      const cells = {};
      for (const server of servers) {
        const rs = runs.filter((r) => r.scenario === s.name && r.variant === v.label && r.server === server);
        if (rs.length) cells[server] = cell(rs);
      }
      if (Object.keys(cells).length) {
        out.push({ scenario: s.name, title: s.title, xLabel: s.xLabel, variant: v.label, x: v.x, cells, note: v.note ?? null, extra: Boolean(v.extra) });
      }
    }
  }
  return out;
}

function tables(summary, servers) {
  const lines = [];
  let current = null;
  for (const row of summary) {
    if (row.scenario !== current) {
      current = row.scenario;
      lines.push('', `### ${row.scenario}: ${row.title}`, '');
      const notes = summary.filter((r) => r.scenario === row.scenario && r.note);
      if (notes.length) lines.push(...notes.map((r) => `- ${r.variant}: ${r.note}`), '');
      lines.push('| variant | server | runs | server CPU % of a core (max 1 s) | CPU µs per packet out | CPU % per stream | packets/s in / out | ' +
                 'RSS MB (per participant, per stream) | threads (per participant) | delay p50 / p95 ms (video; audio p50) | ' +
                 'join first frame (counting: keyframe packet) p50 / p95 / max ms (all p50) | fps median (min) (counting: frames received) | video kbit/s per sub (publisher) | loss % mean (max) | seq gaps % in / out at server | stalled subs | streams seen / expected | ' +
                 'publisher sends: fps, audio pkt/s | load-gen CPU % (runs load-limited) |');
      lines.push(`|${' --- |'.repeat(19)}`);
    }
    for (const server of servers) {
      const c = row.cells[server];
      if (!c) continue;
      lines.push(`| ${row.variant} | ${server} | ${c.runs}${c.failed ? ` (+${c.failed} failed)` : ''} | ${fmt(c.cpu)} (${fmt(c.cpuMax)}) | ${fmt(c.usPerPacket)} | ` +
                 `${fmt(c.cpuPerStream, 2)} | ${fmt(c.inPps, 0)} / ${fmt(c.outPps, 0)} | ${fmt(c.rssMb)} (${fmt(c.rssPerParticipantMb, 2)}, ${fmt(c.rssPerStreamMb, 2)}) | ` +
                 `${fmt(c.threads, 0)} (${fmt(c.threadsPerParticipant, 1)}) | ${fmt(c.delayP50, 2)} / ${fmt(c.delayP95, 2)} (${fmt(c.videoDelayP50, 2)} / ${fmt(c.videoDelayP95, 2)}; ${fmt(c.audioDelayP50, 2)}) | ` +
                 `${fmt(c.joinP50, 0)} / ${fmt(c.joinP95, 0)} / ${fmt(c.joinMax, 0)} (${fmt(c.joinAllP50, 0)}) | ${fmt(c.fps)} (${fmt(c.fpsMin)}) | ` +
                 `${fmt(c.videoKbps, 0)} (${fmt(c.pubKbps, 0)}) | ${fmt(c.lossPct, 2)} (${fmt(c.lossMaxPct, 1)}) | ${fmt(c.inMissingPct, 2)} / ${fmt(c.outMissingPct, 2)} | ${fmt(c.stalled, 0)} | ` +
                 `${fmt(c.streams, 0)} / ${fmt(c.expectedStreams, 0)} | ${fmt(c.pubFps)}, ${fmt(c.pubAudioPps, 0)} | ${fmt(c.loadCpu, 0)}${c.loadLimited ? ` (${c.loadLimited})` : ''} |`);
    }
  }
  lines.push(...loadTable(summary, servers));
  if (servers.includes('manifold') && servers.includes('janus')) {
    lines.push('', '### Manifold / Janus (ratio of the medians; below 1: Manifold uses less / is faster)', '');
    lines.push('| scenario | variant | CPU | CPU per packet out | RSS | threads | delay p50 | delay p95 | join p50 | packets out |');
    lines.push(`|${' --- |'.repeat(10)}`);
    for (const row of summary) {
      const a = row.cells.manifold;
      const b = row.cells.janus;
      if (!a || !b) continue;
      lines.push(`| ${row.scenario} | ${row.variant} | ${fmt(ratio(a.cpu, b.cpu), 2)} | ${fmt(ratio(a.usPerPacket, b.usPerPacket), 2)} | ` +
                 `${fmt(ratio(a.rssMb, b.rssMb), 2)} | ${fmt(ratio(a.threads, b.threads), 2)} | ${fmt(ratio(a.delayP50, b.delayP50), 2)} | ` +
                 `${fmt(ratio(a.delayP95, b.delayP95), 2)} | ${fmt(ratio(a.joinP50, b.joinP50), 2)} | ${fmt(ratio(a.outPps, b.outPps), 2)} |`);
    }
  }
  return lines.join('\n');
}

/**
 * What the receivers cost the load generator: its CPU, the RTP packets its receivers got,
 * CPU per received packet; and, from the viewers-30 variants, the cost of one viewer:
 * counting = (load CPU of 1+60c − of 1+30c) ÷ 30, wrtc = (1+30 − 1+30c) ÷ 30 + counting.
 */
function loadTable(summary, servers) {
  const rows = summary.filter((r) => Object.values(r.cells).some((c) => c.receivers));
  if (!rows.length) return [];
  const lines = ['', '### Load generator (one process on one core: every publisher and receiver of a run)', '',
                 '| scenario | variant | server | receivers: counting / wrtc | join time ends at | RTP packets/s received | load-gen CPU % | µs per received packet (encoding included) | busy % of CPU 0 (server) / CPU 1 (load gen, tcpdump), all processes | first video packet p50 ms (counting) | keyframes received in window | PLIs sent in window |',
                 `|${' --- |'.repeat(12)}`];
  for (const row of rows) {
    for (const server of servers) {
      const c = row.cells[server];
      if (!c) continue;
      lines.push(`| ${row.scenario} | ${row.variant} | ${server} | ${c.receivers ? `${c.receivers.counting} / ${c.receivers.wrtc}` : '–'} | ${c.joinMeasures.join(', ') || '–'} | ` +
                 `${fmt(c.rxPps, 0)} | ${fmt(c.loadCpu)} | ${fmt(c.loadUsPerRxPacket, 1)} | ${fmt(c.serverCpuBusy, 0)} / ${fmt(c.loadCpuBusy, 0)} | ${fmt(c.firstPacketP50, 0)} | ${fmt(c.keyframes, 0)} | ${fmt(c.plis, 0)} |`);
    }
  }
  const cellOf = (variant, server) => summary.find((r) => r.scenario === 'viewers-30' && r.variant === variant)?.cells[server];
  const per = [];
  for (const server of servers) {
    const w = cellOf('1+30', server);
    const c30 = cellOf('1+30c', server);
    const c60 = cellOf('1+60c', server);
    if (!c30 || !c60 || c30.loadCpu === null || c60.loadCpu === null) continue;
    const counting = (c60.loadCpu - c30.loadCpu) / 30;
    const wrtc = w && w.loadCpu !== null ? (w.loadCpu - c30.loadCpu) / 30 + counting : null;
    per.push(`${server}: one counting viewer ${fmt(counting, 2)}% of a core, one wrtc viewer ${fmt(wrtc, 2)}%` +
             `${wrtc !== null && counting > 0 ? ` (${fmt(wrtc / counting, 1)}×)` : ''}`);
  }
  if (per.length) lines.push('', `Cost of one viewer of one VP8 + Opus publisher (viewers-30: counting = (1+60c − 1+30c) ÷ 30, wrtc = (1+30 − 1+30c) ÷ 30 + counting): ${per.join('; ')}.`);
  return lines;
}

/** Plots of `scenario` (default: the one-room scenario) against its x, for every server. */
function plots(summary, servers, outDir, scenario = 'room') {
  const rows = summary.filter((r) => r.scenario === scenario && !r.extra);
  if (rows.length < 2) return [];
  const dat = path.join(outDir, `${scenario}.dat`);
  const header = ['x', ...servers.flatMap((s) => [`${s}_cpu`, `${s}_us_per_pkt`, `${s}_delay_p50`, `${s}_delay_p95`])];
  const body = rows.map((r) => [r.x, ...servers.flatMap((s) => {
    const c = r.cells[s] ?? {};
    return [c.cpu, c.usPerPacket, c.delayP50, c.delayP95].map((v) => (v === null || v === undefined ? 'NaN' : v.toFixed(4)));
  })].join(' '));
  writeFileSync(dat, `# ${header.join(' ')}\n${body.join('\n')}\n`);
  const col = (server, k) => 2 + servers.indexOf(server) * 4 + k;
  const xl = rows[0].xLabel;
  const made = [];
  const plot = (file, title, ylabel, series, { log = false } = {}) => {
    const script = [
      'set terminal pngcairo size 800,500 font ",11"', `set output "${file}"`, `set title "${title}"`,
      `set xlabel "${xl} (participants in the room)"`, `set ylabel "${ylabel}"`, 'set key top left', 'set grid',
      ...(log ? ['set logscale y', 'set yrange [0.05:*]'] : ['set yrange [0:*]']),
      `set xtics (${rows.map((r) => r.x).join(',')})`,
      `plot ${series.map(([c, t, style]) => `"${dat}" using 1:${c} with linespoints ${style} title "${t}"`).join(', ')}`,
    ].join('\n');
    const r = spawnSync('gnuplot', [], { input: script, encoding: 'utf8' });
    if (r.status === 0) made.push(file);
  };
  const style = { manifold: 'lw 2 pt 7 lc rgb "#1f77b4"', janus: 'lw 2 pt 5 lc rgb "#d62728"' };
  plot(path.join(outDir, 'cpu-vs-n.png'), 'Server CPU, one room of N (VP8 + Opus, all receive all)', '% of one core',
       servers.map((s) => [col(s, 0), s, style[s] ?? '']));
  plot(path.join(outDir, 'cpu-per-packet-vs-n.png'), 'Server CPU per forwarded packet', 'µs per packet out',
       servers.map((s) => [col(s, 1), s, style[s] ?? '']));
  plot(path.join(outDir, 'delay-vs-n.png'), 'Forwarding delay through the server (capture on its interface)', 'ms (log scale)',
       servers.flatMap((s) => [[col(s, 2), `${s} p50`, style[s] ?? ''], [col(s, 3), `${s} p95`, `${style[s] ?? ''} dt 2`]]), { log: true });
  return made;
}

export function writeReport({ machine, runs, scenarios, servers, outDir }) {
  const summary = summarize(runs, scenarios, servers);
  const md = [
    `Run of ${machine.date} (${machine.seconds ?? '?'} s): ${machine.nproc} CPUs (${machine.cpu}), kernel ${machine.kernel}, GStreamer ${machine.gstreamer}, ` +
    `Janus ${machine.janus} (Debian ${machine.janusPackage}), libnice ${machine.libnice}, libsrtp2 ${machine.libsrtp}, node ${machine.node}, @roamhq/wrtc ${machine.wrtc}; ` +
    `VP8 source noise ${machine.noise ?? 0.1}; work tree at ${machine.gitHead}${machine.gitDirty === 'yes' ? ' (C++ sources modified)' : ''}; load average ${machine.loadavg} at the start, ${machine.loadavgEnd ?? '?'} at the end.`,
    '', `Command: \`${machine.command}\``,
    tables(summary, servers),
  ].join('\n');
  writeFileSync(path.join(outDir, 'tables.md'), `${md}\n`);
  const made = plots(summary, servers, outDir);
  writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 1));
  return `${md}\n\nplots: ${made.map((f) => path.basename(f)).join(', ') || 'none'}`;
}
