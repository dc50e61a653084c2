// Seed 003's example createUsers body (its callback aside: not a User field), for the tests
// of the Users form: the unit test reads it into the form and back, the browser test makes
// it from the form's labelled fields and compares the User's spec with it.
export const SEED_USER = {
  userCode: 'user123',
  userOwnerId: 'owner456',
  userOwnerType: 'solutionprovider',
  function: 'administration',
  firstName: 'John',
  middleName: 'A.',
  lastName: 'Doe',
  email: 'john.doe@example.com',
  primaryMobile: { countryCode: '+1', number: '5551234567' },
  secondaryMobile: { countryCode: '+1', number: '5557654321' },
  groups: ['solutions owner', 'field executive'],
  workLocations: ['hq-1'],
  teams: ['team-1'],
  identification: { idType: 'passport', idNum: 'P123456789' },
  fileId: 'file123456',
  userType: 'admin',
  department: 'IT',
  aaaId: 'aaa123456',
  aaaGroups: ['admingroup'],
  designation: 'new tenant admin',
  employmentType: 'full-time',
};
