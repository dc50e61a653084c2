import { render } from 'preact';
import { App } from './app.tsx';
import { setLang } from './i18n.ts';

const wanted = new URLSearchParams(location.search).get('lang') ?? navigator.language;
setLang(wanted.startsWith('es') ? 'es' : 'en');
render(<App />, document.getElementById('app')!);
