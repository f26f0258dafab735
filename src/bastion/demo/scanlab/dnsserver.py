"""An authoritative DNS server for the scan lab, on loopback: UDP and TCP, AXFR where allowed."""

from __future__ import annotations

import socketserver
import struct

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from bastion.demo.scanlab.servers import Running, _loopback


class LabDns:
    """Answer from one zone; hand out the zone (AXFR) only to names in ``axfr_allowed``."""

    def __init__(self, zone_text: str, origin: str, axfr_allowed: set[str]) -> None:
        self.zone = dns.zone.from_text(
            zone_text, origin=origin, relativize=False, check_origin=False
        )
        self.origin = dns.name.from_text(origin)
        self.axfr_allowed = {dns.name.from_text(n) for n in axfr_allowed}

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        reply = dns.message.make_response(query)
        reply.flags |= 0x0400  # AA
        question = query.question[0]
        name, kind = question.name, question.rdtype
        if kind == dns.rdatatype.AXFR:
            if name not in self.axfr_allowed:
                reply.set_rcode(dns.rcode.REFUSED)
                return reply.to_wire()
            # Hand out every record under the asked name, framed by an SOA of that name.
            soa = self.zone.find_rdataset(self.origin, dns.rdatatype.SOA)
            framing = dns.rrset.from_rdata_list(name, soa.ttl, list(soa))
            reply.answer.append(framing)
            for node_name, node in self.zone.nodes.items():
                if node_name.is_subdomain(name):
                    for rdataset in node.rdatasets:
                        reply.answer.append(
                            dns.rrset.from_rdata_list(node_name, rdataset.ttl, list(rdataset))
                        )
            reply.answer.append(framing)
            return reply.to_wire()
        found_node = self.zone.get_node(name)
        if found_node is None:
            if not name.is_subdomain(self.origin):
                reply.set_rcode(dns.rcode.REFUSED)
            else:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            return reply.to_wire()
        found = found_node.get_rdataset(dns.rdataclass.IN, kind)
        cname = found_node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
        for rdataset in (found, cname if found is None else None):
            if rdataset is not None:
                reply.answer.append(dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset)))
        return reply.to_wire()


def dns_server(address: str, lab: LabDns) -> tuple[Running, Running]:
    """Start the lab's DNS server on UDP and TCP of one free port; return both."""

    class Udp(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            sock.sendto(lab.answer(data), self.client_address)

    class Tcp(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.settimeout(3)
            try:
                size = struct.unpack("!H", self.request.recv(2))[0]
                data = b""
                while len(data) < size:
                    data += self.request.recv(size - len(data))
                wire = lab.answer(data)
                self.request.sendall(struct.pack("!H", len(wire)) + wire)
            except (OSError, struct.error):
                return

    class TcpServer(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    class UdpServer(socketserver.ThreadingUDPServer):
        daemon_threads = True

    tcp = TcpServer((_loopback(address), 0), Tcp)
    port = tcp.server_address[1]
    udp = UdpServer((address, port), Udp)
    return Running(udp, address, port), Running(tcp, address, port)


__all__ = ["LabDns", "dns_server"]
