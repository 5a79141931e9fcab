"""A decoder of the compact roster encoding (docs/PROTOCOL.md, "Compact
encoding"; src/proto/compact.h), written from the document: what a client
author would write. Strict like src/proto/compact.c: anything the server
should never send raises ValueError.

    v = CompactView()
    v.apply(frame_bytes)       # every binary frame, in order
    v.roster()                 # the seven channels, as proximity_roster has them
"""
import json
import math

FULL, DELTA = 1, 2
DEF, ADD, REMOVE, COUNTS, SPEAKERS, DANGER, SELF, MOVE = 1, 2, 3, 4, 5, 6, 7, 0x10
CHANNELS = ["touch", "say", "shout", "emote", "see", "hear", "cfh"]
GROUP_OF = [0, 1, 2, 2, 2, 2, 3]  # channel -> COUNTS/SPEAKERS group
TYPES = {0: "player", 1: "npc", 2: "wildlife"}
SID_LIMIT = 4096


class Reader:
    def __init__(self, data):
        self.d = bytes(data)
        self.i = 0

    def left(self):
        return len(self.d) - self.i

    def u8(self):
        if self.i >= len(self.d):
            raise ValueError("truncated record")
        b = self.d[self.i]
        self.i += 1
        return b

    def varint(self):
        v, shift = 0, 0
        while True:
            b = self.u8()
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def zz(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def sid(self):
        s = self.varint()
        if s >= SID_LIMIT:
            raise ValueError(f"id {s} out of range")
        return s

    def raw(self, n):
        if self.left() < n:
            raise ValueError("truncated name")
        b = self.d[self.i:self.i + n]
        self.i += n
        return b


def protocol_id(pid):
    return f"char-{pid}" if pid > 0 else f"npc-{-pid}"


class CompactView:
    def __init__(self):
        self.defs = {}     # sid -> {"pid", "id", "name", "type", "isMachine"}
        self.view = {}     # sid -> {"mask", "pos": [x, y, z] tenths}
        self.count = [0, 0, 0, 0]
        self.speaker = [0, 0, 0, 0]  # sid + 1
        self.hostiles = 0
        self.self_pos = [0, 0, 0]
        self.ts = 0
        self.has_state = False
        self.frames = 0
        self.log = []      # (kind, records) per frame, records as tuples

    def apply(self, data):
        r = Reader(data)
        kind = r.u8()
        ts = r.varint()
        self.frame_ts = ts  # as sent: FULL wall ms, DELTA ms since the last frame
        if kind == FULL:
            self.defs.clear()
            self.view.clear()
            self.count = [0, 0, 0, 0]
            self.speaker = [0, 0, 0, 0]
            self.hostiles = 0
            self.self_pos = [0, 0, 0]
            self.ts = ts
            self.has_state = True
        elif kind == DELTA:
            if not self.has_state:
                raise ValueError("delta before a full frame")
            self.ts += ts
        else:
            raise ValueError(f"unknown frame kind {kind}")
        recs = []
        while r.left():
            recs.append(self._record(r, r.u8()))
        for g, s in enumerate(self.speaker):
            if s and (s - 1) not in self.view:
                raise ValueError(f"speaker {s - 1} of group {g} not in view")
        self.frames += 1
        self.log.append((kind, recs))
        return kind, recs

    def _record(self, r, tag):
        if MOVE <= tag < MOVE + 16:
            sid = r.sid()
            if sid not in self.view:
                raise ValueError(f"MOVE of {sid}, not in view")
            e = self.view[sid]
            vals = []
            for a in range(3):
                if tag & (1 << a):
                    vals.append(r.zz())
                    e["pos"][a] += vals[-1]
            if tag & 8:
                e["mask"] = r.u8()
                vals.append(e["mask"])
            return ("move", sid, tag & 15, vals)
        if tag == DEF:
            sid, pid, flags, n = r.sid(), r.zz(), r.u8(), r.u8()
            name = r.raw(n).decode("utf-8")
            if pid == 0:
                raise ValueError("DEF with pid 0")
            if sid in self.view:
                raise ValueError(f"DEF of {sid} while in view")
            self.defs[sid] = {"pid": pid, "id": protocol_id(pid), "name": name, "flags": flags,
                              "type": TYPES.get(flags & 3, "player"),
                              "isMachine": bool(flags & 4)}
            return ("def", sid, self.defs[sid]["id"])
        if tag == ADD:
            sid = r.sid()
            if sid not in self.defs:
                raise ValueError(f"ADD of undefined id {sid}")
            if sid in self.view:
                raise ValueError(f"ADD of {sid}, already in view")
            mask = r.u8()
            self.view[sid] = {"mask": mask, "pos": [r.zz(), r.zz(), r.zz()]}
            return ("add", sid)
        if tag == REMOVE:
            sid = r.sid()
            if sid not in self.view:
                raise ValueError(f"REMOVE of {sid}, not in view")
            del self.view[sid]
            return ("remove", sid)
        if tag in (COUNTS, SPEAKERS):
            which = r.u8()
            if which >> 4:
                raise ValueError("bad group bits")
            for g in range(4):
                if which & (1 << g):
                    (self.count if tag == COUNTS else self.speaker)[g] = r.varint()
            return ("counts" if tag == COUNTS else "speakers", which)
        if tag == DANGER:
            self.hostiles = r.varint()
            return ("danger", self.hostiles)
        if tag == SELF:
            self.self_pos = [r.zz(), r.zz(), r.zz()]
            return ("self",)
        raise ValueError(f"unknown record tag {tag:#x}")

    # ---- what a client does with it ----

    def position(self, entity_id):
        """Feet (x, y, z) of a listed entity, by protocol id, or None."""
        for sid, e in self.view.items():
            if self.defs[sid]["id"] == entity_id:
                return tuple(v / 10 for v in e["pos"])
        return None

    def sid_of(self, entity_id):
        for sid, d in self.defs.items():
            if d["id"] == entity_id:
                return sid
        return None

    def roster(self):
        """The seven channels as a proximity_roster lists them (bearing,
        elevation and range computed from the positions)."""
        sx, sy, sz = (v / 10 for v in self.self_pos)
        chans = {}
        for c, name in enumerate(CHANNELS):
            g = GROUP_OF[c]
            ents = []
            for sid, e in self.view.items():
                if not e["mask"] & (1 << c):
                    continue
                d = self.defs[sid]
                x, y, z = (v / 10 for v in e["pos"])
                dx, dy, dz = x - sx, y - sy, z - sz
                h = math.hypot(dx, dz)
                ents.append({"id": d["id"], "name": d["name"], "type": d["type"],
                             "isMachine": d["isMachine"], "isAlive": True,
                             "bearing": round(math.degrees(math.atan2(dx, dz)) % 360, 1),
                             "elevation": round(math.degrees(math.atan2(dy, h)), 1),
                             "range": round(math.sqrt(dx * dx + dy * dy + dz * dz), 1)})
            ents.sort(key=lambda e: e["range"])
            ch = {"count": self.count[g], "entities": ents}
            if self.count[g] <= 3:
                ch["sample"] = [e["name"] for e in ents]
                s = self.speaker[g]
                if s:
                    ch["lastSpeaker"] = self.defs[s - 1]["name"]
            chans[name] = ch
        return {"channels": chans, "dangerState": self.hostiles > 0,
                "danger": {"level": "danger" if self.hostiles else "safe",
                           "hostilesNearby": self.hostiles}}


def as_json_arrays(kind, recs, view):
    """The same records as compact JSON arrays (the alternative to binary,
    for the size comparison in docs/PERFORMANCE.md): one array per record
    holding the same integers (tenths of a foot, deltas for moves), so only
    the text encoding differs. Call right after apply() of that frame."""
    out = [kind, view.frame_ts]
    for rec in recs:
        if rec[0] == "def":
            d = view.defs.get(rec[1], {})
            out.append(["d", rec[1], d.get("pid", 0), d.get("flags", 0), d.get("name", "")])
        elif rec[0] == "add":
            e = view.view.get(rec[1])
            out.append(["a", rec[1], e["mask"]] + e["pos"] if e else ["a", rec[1]])
        elif rec[0] == "move":
            out.append(["m", rec[1], rec[2]] + rec[3])
        elif rec[0] == "remove":
            out.append(["r", rec[1]])
        elif rec[0] == "counts":
            out.append(["c", rec[1]] + [view.count[g] for g in range(4) if rec[1] & (1 << g)])
        elif rec[0] == "speakers":
            out.append(["s", rec[1]] + [view.speaker[g] for g in range(4) if rec[1] & (1 << g)])
        elif rec[0] == "danger":
            out.append(["h", view.hostiles])
        elif rec[0] == "self":
            out.append(["p"] + view.self_pos)
    return len(json.dumps(out, separators=(",", ":")))
