export * from './decorators/chat-resource.decorator';
export * from './decorators/inject-openai.decorator';
export {
  Completion,
  UseCompletion,
  type CompletionFactory,
  type UseCompletionOptions,
} from './decorators/use-completion.decorator';
export { jsonSchemaFormat } from './completion/structured-output';
export { CHAT_ROLES, ChatRequestDto, type ChatRequest } from './dto/chat-request.dto';
export { toChatError, type ChatErrorPayload } from './events/chat-error';
export * from './events/chat-event';
export { toChatEvents, toSseEvents, type ChatEventOptions, type SseEventOptions } from './events/chat-event.operators';
export { ChatResourceInterceptor } from './interceptors/chat-resource.interceptor';
export { CompletionInterceptor } from './interceptors/completion.interceptor';
export type {
  ChatFactoryContext,
  ChatFeatureOptions,
  ChatResourceFactory,
} from './interfaces/chat-resource-factory.interface';
export type {
  LanarkyOpenAIModuleOptions,
  LanarkyOpenAIOptionsFactory,
} from './interfaces/lanarky-openai-options.interface';
export { OPENAI_CLIENT } from './lanarky-openai.constants';
export { LanarkyOpenAIFeatureModule, LanarkyOpenAIModule } from './lanarky-openai.module';
export { LANARKY_OPENAI_OPTIONS } from './lanarky-openai.module-definition';
export * from './resources/chat-completion.resource';
export {
  OpenAIResource,
  isOpenAIResource,
  type ChatMessage,
  type OpenAIResourceOptions,
  type ResourceCallOptions,
  type ResourceDefaults,
} from './resources/openai.resource';
export { ChatRuns, type ChatRunRecord } from './lifecycle/chat-runs.service';
export { ParseLenientBoolPipe, type ParseLenientBoolPipeOptions } from './pipes/parse-lenient-bool.pipe';
export type { ChatRunResult } from './resources/chat-run';
export { ChatRequestValidator } from './validation/chat-request.validator';
export { useChatBodyParser } from './http/chat-body-parser';
export { CANCEL_EVENT, CHAT_EVENT } from './ws/chat-frames';
export { getHandshake } from './ws/chat-socket';
export { ChatWsExceptionFilter } from './ws/chat-ws-exception.filter';
export type { AllowedOrigins, LanarkyWsAdapterOptions } from './interfaces/lanarky-ws-adapter-options.interface';
export { LanarkyWsAdapter } from './ws/lanarky-ws.adapter';
