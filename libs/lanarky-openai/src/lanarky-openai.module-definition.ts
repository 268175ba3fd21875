import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LanarkyOpenAIModuleOptions } from './interfaces/lanarky-openai-options.interface';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: LANARKY_OPENAI_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LanarkyOpenAIModuleOptions>({ moduleName: 'LanarkyOpenAI' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createLanarkyOpenAIOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
