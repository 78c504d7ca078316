/** Local fakes of the four WhatsApp providers, speaking each one's documented HTTP protocol. */
export { startFakeServer, type FakeReply, type FakeServer, type RecordedRequest } from './fake-server.ts';
export { greenApi400, greenApiQuotaExceeded, startFakeGreenApi, type FakeGreenApi, type FakeGreenApiOptions } from './green-api.ts';
export { startFakeUltramsg, ultramsgError, ultramsgErrors, type FakeUltramsg, type FakeUltramsgOptions } from './ultramsg.ts';
export { fonnteFailure, startFakeFonnte, type FakeFonnte, type FakeFonnteOptions } from './fonnte.ts';
export { metaGraphError, startFakeMetaCloud, type FakeMetaCloud, type FakeMetaCloudOptions } from './meta-cloud.ts';
