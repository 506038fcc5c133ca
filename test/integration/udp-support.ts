/**
 * Helpers for the UDP tests on loopback: an endpoint on 127.0.0.1 port 0 with a recording
 * protocol (optionally echoing), an `onError` sink, and closing everything in `after()`.
 */
import assert from 'node:assert/strict';
import {
  createDatagramEndpoint,
  type DatagramAddress,
  type DatagramEndpointOptions,
  type DatagramErrorContext,
  type DatagramTransport,
} from '../../src/udp/index.js';
import {
  type RecordingDatagramBehaviour,
  RecordingDatagramProtocol,
} from '../helpers/recording-datagram-protocol.js';

export {
  type DatagramEvent,
  grammarViolations,
  type RecordingDatagramBehaviour,
  RecordingDatagramProtocol,
} from '../helpers/recording-datagram-protocol.js';

/** Collects what `onError` is told. */
export function errorSink(): {
  errors: { error: Error; context: DatagramErrorContext }[];
  onError: (error: Error, context: DatagramErrorContext) => void;
} {
  const errors: { error: Error; context: DatagramErrorContext }[] = [];
  return { errors, onError: (error, context) => errors.push({ error, context }) };
}

/** An endpoint on 127.0.0.1, port 0, recording; echoes each datagram back when `echo`. */
export async function loopbackEndpoint(
  behaviour: RecordingDatagramBehaviour & { echo?: boolean } = {},
  options: DatagramEndpointOptions = {},
) {
  const sink = errorSink();
  const onDatagram = behaviour.echo
    ? (data: Buffer, address: DatagramAddress, transport: DatagramTransport) => {
        transport.sendTo(data, address);
        return behaviour.onDatagram?.(data, address, transport);
      }
    : behaviour.onDatagram;
  const [transport, protocol] = await createDatagramEndpoint(
    () => new RecordingDatagramProtocol({ ...behaviour, ...(onDatagram ? { onDatagram } : {}) }),
    { host: '127.0.0.1', port: 0, onError: sink.onError, ...options },
  );
  const address = transport.getExtraInfo('sockname');
  assert.ok(address !== undefined);
  return { transport, protocol, address, errors: sink.errors };
}

/** Closes every endpoint given and waits for each to be gone (for `after()`). */
export async function closeAll(transports: Iterable<DatagramTransport | undefined>): Promise<void> {
  await Promise.all(
    [...transports].map((transport) => {
      transport?.close();
      return transport?.waitClosed();
    }),
  );
}
