// Reads the pcaps that startGatewayCapture (tests/integration/media/netns.mjs) writes:
// link type Ethernet (the veth, nanosecond timestamps) or NFLOG (239, what passed the
// INPUT loss rule). SRTP leaves the 12-byte RTP header in clear, so every packet's
// payload type, sequence number, timestamp and SSRC can be read here.
import { readFileSync } from 'node:fs';

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_NFLOG = 239;
const NFULA_PAYLOAD = 9;

/**
 * @returns {{t: number, src: string, sport: number, dst: string, dport: number, size: number,
 *            kind: 'rtp'|'rtcp'|'other', pt?: number, seq?: number, ts?: number, ssrc?: number, marker?: boolean}[]}
 *   t in milliseconds (the capture's clock, CLOCK_REALTIME), in capture order
 */
export function readPcap(file) {
  const buf = readFileSync(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  let le;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${file}: not a pcap file`);
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const linktype = u32(20);
  if (linktype !== LINKTYPE_NFLOG && linktype !== LINKTYPE_ETHERNET)
    throw new Error(`${file}: link type ${linktype}, expected Ethernet (1) or NFLOG (239)`);
  const out = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const start = off + 16;
    off = start + incl;
    if (off > buf.length) break; // truncated last record
    const t = sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3);
    let ip = null;
    if (linktype === LINKTYPE_ETHERNET) {
      if (incl >= 14 && buf.readUInt16BE(start + 12) === 0x0800) ip = buf.subarray(start + 14, start + incl);
    } else {
      // NFLOG: family, version, resource id (4 bytes), then TLVs (length and type in host order, little-endian here).
      let p = start + 4;
      while (p + 4 <= start + incl) {
        const len = buf.readUInt16LE(p);
        const type = buf.readUInt16LE(p + 2) & 0x7fff;
        if (len < 4) break;
        if (type === NFULA_PAYLOAD) { ip = buf.subarray(p + 4, Math.min(p + len, start + incl)); break; }
        p += (len + 3) & ~3;
      }
    }
    if (!ip || ip.length < 28 || ip[0] >> 4 !== 4 || ip[9] !== 17) continue;
    const ihl = (ip[0] & 0x0f) * 4;
    const udp = ip.subarray(ihl);
    const pkt = {
      t,
      src: `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`,
      dst: `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`,
      sport: udp.readUInt16BE(0),
      dport: udp.readUInt16BE(2),
      size: udp.readUInt16BE(4) - 8,
      kind: 'other',
    };
    const rtp = udp.subarray(8);
    if (rtp.length >= 12 && rtp[0] >> 6 === 2) {
      if (rtp[1] >= 192 && rtp[1] <= 223) {
        pkt.kind = 'rtcp';
      } else {
        pkt.kind = 'rtp';
        pkt.marker = (rtp[1] & 0x80) !== 0;
        pkt.pt = rtp[1] & 0x7f;
        pkt.seq = rtp.readUInt16BE(2);
        pkt.ts = rtp.readUInt32BE(4);
        pkt.ssrc = rtp.readUInt32BE(8);
      }
    }
    out.push(pkt);
  }
  return out;
}
