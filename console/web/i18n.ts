// The products' own words (seeds 000, 001, 002), in English and Spanish. Keys are the
// English text; a missing Spanish entry shows the English one.
export type Lang = 'en' | 'es';

const es: Record<string, string> = {
  'Mini App Center': 'Mini App Center',
  'Sign in': 'Iniciar sesión',
  'SIGN IN': 'INICIAR SESIÓN',
  'Sign out': 'Cerrar sesión',
  'Language': 'Idioma',
  'Signed in as': 'Sesión iniciada como',
  'You are not signed in.': 'No ha iniciado sesión.',
  'My organizations': 'Mis organizaciones',
  'Organizations': 'Organizaciones',
  'Organization': 'Organización',
  'Role': 'Rol',
  'Namespace': 'Espacio de nombres',
  'Status': 'Estado',
  'You are not a member of any organization yet.': 'Todavía no es miembro de ninguna organización.',
  'Members': 'Personas',
  'Manage': 'Administrar',
  'Super Apps': 'Super Apps',
  'Reviews': 'Revisiones',
  'API keys': 'Claves de API',
  'Invite new member': 'Invitar a un nuevo miembro',
  'Email': 'Correo electrónico',
  'SEND': 'ENVIAR',
  'Remove': 'Quitar de la organización',
  'Leave': 'Salir de la organización',
  'Change role': 'Cambiar el rol',
  'Change role of {0}': 'Cambiar el rol de {0}',
  'Remove {0}': 'Quitar de la organización: {0}',
  'Organization Administrator': 'Administrador de la organización',
  'Super App Administrator': 'Administrador de Super Apps',
  'Mini App Developer': 'Desarrollador de Mini Apps',
  'Mini App Reviewer': 'Revisor de Mini Apps',
  'Provisioning Administrator': 'Administrador de aprovisionamiento',
  'NEW ORGANIZATION': 'NUEVA ORGANIZACIÓN',
  'Name': 'Nombre',
  'Display name': 'Nombre para mostrar',
  'Can Create Super Apps': 'Puede crear Super Apps',
  'Can Create Mini Apps': 'Puede crear Mini Apps',
  'CONFIRM': 'CONFIRMAR',
  'Cancel': 'Cancelar',
  'Search': 'Buscar',
  'Category': 'Categoría',
  'All categories': 'Todas las categorías',
  'Type': 'Tipo',
  'Domain': 'Dominio',
  'Group': 'Grupo',
  'Categories': 'Categorías',
  'Data Privacy': 'Privacidad de los datos',
  'Protection Type': 'Tipo de protección',
  'None': 'Ninguna',
  'Irreversible Masking (***)': 'Enmascaramiento irreversible (***)',
  'Envelope Encryption (AES 256)': 'Cifrado de sobre (AES 256)',
  'Create': 'Crear',
  'Create Application': 'Crear aplicación',
  'Duplicate': 'Duplicar',
  'Duplicate Application': 'Duplicar aplicación',
  'Duplicate {0}': 'Duplicar {0}',
  'Delete': 'Eliminar',
  'Delete {0}': 'Eliminar {0}',
  'Type CONFIRM DELETE to delete {0}. This cannot be undone.': 'Escriba CONFIRM DELETE para eliminar {0}. No se puede deshacer.',
  'Confirmation': 'Confirmación',
  'Letters, digits and underscores only.': 'Solo letras, dígitos y guiones bajos.',
  'Ready': 'Listo',
  'Not ready': 'No está listo',
  'Platforms': 'Plataformas',
  'Versions': 'Versiones',
  'Mini app': 'Mini app',
  'Super app': 'Super app',
  'Version': 'Versión',
  'Decision': 'Decisión',
  'Comment': 'Comentario',
  'Approved': 'Aprobada',
  'Rejected': 'Rechazada',
  'Review a mini app': 'Revisar una mini app',
  '+ ADD API-KEY': '+ AGREGAR CLAVE DE API',
  'Description': 'Descripción',
  'Expiration date': 'Fecha de vencimiento',
  'Revoke': 'Revocar',
  'Revoke {0}': 'Revocar {0}',
  'Revoked': 'Revocada',
  'Expires': 'Vence',
  'Copy this API key now: it is not shown again.': 'Copie esta clave de API ahora: no se vuelve a mostrar.',
  'Your new API key': 'Su nueva clave de API',
  'Waiting for the operator to issue the key…': 'Esperando a que el operador emita la clave…',
  'Loading…': 'Cargando…',
  'Nothing here yet.': 'Todavía no hay nada aquí.',
  'Why': 'Motivo',
  'Actions': 'Acciones',
  '{0} of {1} mini apps': '{0} de {1} mini apps',
  'Organization name': 'Nombre de la organización',
  'NEW SUPER APP': 'NUEVA SUPER APP',
  'Separated by commas, from the platform list.': 'Separadas por comas, de la lista de plataformas.',
  '{0} mini apps in snapshot {1}': '{0} mini apps en la instantánea {1}',
  'Freeze version of {0}': 'Congelar una versión de {0}',
  'FREEZE': 'CONGELAR',
  'Back to my organizations': 'Volver a mis organizaciones',
  'The API server refused this:': 'El servidor de API rechazó esto:',
};

let current: Lang = 'en';
export const setLang = (l: Lang): void => {
  current = l;
  document.documentElement.lang = l;
};
export const lang = (): Lang => current;

/** The text in the current language, with {0}, {1}… filled in. */
export function t(key: string, ...args: (string | number)[]): string {
  const text = current === 'es' ? (es[key] ?? key) : key;
  return args.reduce<string>((s, a, i) => s.replaceAll(`{${i}}`, String(a)), text);
}

export const ROLES = ['OrganizationAdministrator', 'SuperAppAdministrator', 'MiniAppDeveloper', 'MiniAppReviewer'] as const;
const ROLE_WORDS: Record<string, string> = {
  OrganizationAdministrator: 'Organization Administrator',
  SuperAppAdministrator: 'Super App Administrator',
  MiniAppDeveloper: 'Mini App Developer',
  MiniAppReviewer: 'Mini App Reviewer',
};
/** A role as people read it (Mini App Developer), not as the API spells it. */
export const roleName = (role: string | undefined): string => (role ? t(ROLE_WORDS[role] ?? role) : '');
